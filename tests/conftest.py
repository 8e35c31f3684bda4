"""Shared fixtures: the real monograph, products as a patient would name them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from dosewise.domain.monograph import Monograph
from dosewise.monographs import load_monograph

DATA = Path(__file__).parent / "data"


def load_data(name: str) -> dict[str, Any]:
    with (DATA / name).open("rb") as file:
        return tomllib.load(file)


@pytest.fixture(scope="session")
def monograph() -> Monograph:
    return load_monograph("baclofen")
