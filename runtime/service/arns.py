"""The ARNs of the Step Functions API: their kinds and AWS's ``InvalidArn`` answers.

AWS's recorded answers (localstack's snapshots recorded against AWS, test_sfn_api and
test_sfn_api_express): ``Invalid Arn: 'Invalid ARN prefix: <arn>'`` for text that is not
an ARN, and ``Invalid Arn: 'Resource type not valid in this context: express'`` for an
Express execution's ARN given to DescribeExecution. Other malformed ARNs (another
service, too few parts) have no recorded wording; they get the second form too, naming
what stood where the resource type should be. An ARN holding a lone surrogate names
nothing (no name may hold one, botocore's documentation of the names): it is
``InvalidArn`` too, in our words, as AWS documents no answer for it.

A state machine's role that is not an IAM role's ARN is ``InvalidArn`` with
``Invalid Role Arn: '<arn>'``: AWS's answer to CreateStateMachine for a placeholder
(aws/amazon-sagemaker-examples#2430 and #2432, run against AWS) and Step Functions
Local's, which AWS ships, for an IAM policy's ARN (localstack/localstack#2027).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asl.jsontext import replace_surrogates
from runtime.store import InvalidArn

__all__ = ["Arn", "check_role_arn", "parse_arn"]


@dataclass(frozen=True, slots=True)
class Arn:
    """A Step Functions ARN: its resource ``kind`` (``stateMachine``, ``execution``,
    ``express``, ``activity``, ``mapRun``) and the parts after it."""

    text: str
    kind: str
    parts: tuple[str, ...]

    @property
    def base(self) -> str:
        """The ARN without a qualifier: a state machine's ARN for its version or alias."""
        prefix = self.text.split(f":{self.kind}:", 1)[0]
        return f"{prefix}:{self.kind}:{self.parts[0]}"

    @property
    def qualifier(self) -> str | None:
        """A state machine ARN's version number or alias name, if it has one."""
        return self.parts[1] if self.kind == "stateMachine" and len(self.parts) > 1 else None


# How many parts each kind has after its type: (fewest, most).
_PARTS = {
    "stateMachine": (1, 2),
    "execution": (2, 2),
    "express": (3, 3),
    "activity": (1, 1),
    "mapRun": (2, 2),
}


def parse_arn(text: str, *kinds: str) -> Arn:
    """The ARN ``text`` when it is one of ``kinds``; ``InvalidArn`` in AWS's words if not."""
    if not text.startswith("arn:"):
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {text}'")
    if not text.isascii() and (shown := replace_surrogates(text)) != text:
        raise InvalidArn(f"Invalid Arn: 'Invalid characters in ARN: {shown}'")
    fields = text.split(":")
    kind = fields[5] if len(fields) > 5 else ""
    parts = tuple(fields[6:])
    fewest, most = _PARTS.get(kind, (1, 0))
    if (
        kind not in kinds
        or fields[2] != "states"
        or not fewest <= len(parts) <= most
        or not all(parts)
    ):
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {kind}'")
    return Arn(text, kind, parts)


# An IAM role's ARN: arn:<partition>:iam::<account>:role/<path><name>. AWS publishes no
# pattern for the check; this one refuses what is plainly no role (not an ARN, another
# service's, a policy or a user) and takes any account this server may be given
# (``--account`` is free text), the rest printable ASCII as IAM's names and paths are.
_ROLE = re.compile(r"arn:[a-z0-9-]+:iam::[!-9;-~]+:role/[!-~]+")


def check_role_arn(text: str) -> None:
    """Refuse ``text`` as a state machine's role, in AWS's words, unless it is an IAM
    role's ARN."""
    if _ROLE.fullmatch(text) is None:
        shown = replace_surrogates(text)
        raise InvalidArn(f"Invalid Role Arn: '{shown}'")
