"""Singer tap for Azure provider-reported carbon emissions."""
