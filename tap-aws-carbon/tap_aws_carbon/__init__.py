"""Singer tap for AWS provider-reported carbon emissions."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tap-aws-carbon")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
