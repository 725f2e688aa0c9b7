"""Every shell, Python and GraphQL example of README.md and docs/ runs against a live demo, as a
reader would run it (tests/demo/examples.py says how), so the docs cannot drift from the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demo.examples import DOCUMENTS, ROOT, MarkupError, Reader, examples
from tests.demo.live import free_port
from tests.support.live_demo import ON_THE_DEMO_WORKER, LiveDemo

pytestmark = [pytest.mark.slow, ON_THE_DEMO_WORKER]


def test_the_markers_are_complete() -> None:
    runnable = [e for document in DOCUMENTS for e in examples(document) if e.runs]
    assert len(runnable) >= 15  # 19 today: marking most of them "not run" would not go unnoticed
    for document in DOCUMENTS:
        for example in examples(document):
            assert example.not_run is None or len(example.not_run) >= 10, example.where


@pytest.mark.parametrize(
    "text",
    [
        "<!-- not run: -->\n```sh\nls\n```\n",  # no reason
        "<!-- not run: the production settings only -->\n\nSome text.\n```sh\nls\n```\n",  # no block next
        "<!-- browser: generalist_a -->\n```sh\necho no placeholder\n```\n",
        "```sh\nls\n```\n<!-- not run: a marker at the very end -->\n",
    ],
)
def test_a_marker_without_its_reason_or_block_is_refused(text: str) -> None:
    with pytest.raises(MarkupError):
        examples(ROOT / "docs" / "example.md", text)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(Path(d).relative_to(ROOT)))
async def test_the_examples_run_against_the_demo(document: Path, live_demo: LiveDemo) -> None:
    reader = Reader.at(live_demo.workspace, live_demo.base_url, free_port())
    credentials = live_demo.served.credentials()
    for example in examples(document):
        if example.runs:
            outcome = await reader.run(example, credentials)
            assert outcome.exit_code == 0, outcome.report()
