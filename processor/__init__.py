"""processor: split a stimulus grant exactly and announce the split.

The pipeline, one module per stage: ``workbook`` (read) → ``validate`` →
``allocate`` → ``appendix`` / ``result`` / documents → ``manifest``, tied together
by ``pipeline``. The CLI in ``cli`` only parses arguments and prints.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("processor")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
