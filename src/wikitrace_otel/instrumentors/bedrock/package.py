"""Versions of botocore this instrumentor supports: what boto3 1.35 to 1.x and aiobotocore 3.x
bring (both ends of each are tested). botocore, not boto3, is what is wrapped, so an application
with aiobotocore alone is instrumented too."""

from __future__ import annotations

_instruments = ("botocore >= 1.35.0, < 2",)
