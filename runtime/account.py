"""The region and account in every ARN the engine makes when none is given.

A module of its own, free of the engine, so that ``asl serve --help`` shows them without
importing the engine.
"""

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
