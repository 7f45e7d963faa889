"""The package version, read from the installed metadata."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("socialvalue_tom")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
