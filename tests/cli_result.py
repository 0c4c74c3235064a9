"""What a command-line run left behind, shared by the tiers that run a CLI as a subprocess."""
import json
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)
