"""Singer tap for Google Cloud carbon footprint and billing exports."""
