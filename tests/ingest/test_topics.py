"""Topic templates derive the subscription filter and extract named levels."""

from __future__ import annotations

import pytest

from twinsync.errors import InvalidInput
from twinsync.ingest.topics import TopicRouter, TopicTemplate


def test_fields_become_single_level_wildcards_in_the_filter() -> None:
    template = TopicTemplate("site/{building}/{sensor_id}/data")
    assert template.filter == "site/+/+/data"
    assert template.fields == ("building", "sensor_id")
    assert template.subscription("twinsync") == "$share/twinsync/site/+/+/data"


def test_a_matching_topic_yields_its_fields_and_others_yield_none() -> None:
    template = TopicTemplate("site/{building}/{sensor_id}/data")
    assert template.match("site/b1/t-1/data") == {"building": "b1", "sensor_id": "t-1"}
    assert template.match("site/b1/t-1") is None
    assert template.match("site/b1/t-1/data/extra") is None
    assert template.match("other/b1/t-1/data") is None


def test_a_rest_field_keeps_the_remaining_levels() -> None:
    template = TopicTemplate("gw/{gateway}/{path#}")
    assert template.filter == "gw/+/#"
    assert template.match("gw/g7/floor2/room3/t") == {"gateway": "g7", "path": "floor2/room3/t"}
    assert template.match("gw/g7") is None


def test_plain_wildcards_match_without_naming() -> None:
    template = TopicTemplate("a/+/{sensor_id}/#")
    assert template.filter == "a/+/+/#"
    assert template.match("a/x/s1/more/levels") == {"sensor_id": "s1"}


@pytest.mark.parametrize("bad", ["", "a/{x}y/b", "a/#/b", "a/{x}/{x}", "$share/g/a",
                                 "a/{rest#}/b"])
def test_bad_templates_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        TopicTemplate(bad)


def test_the_first_matching_template_of_a_router_wins() -> None:
    router = TopicRouter(["site/{building}/{sensor_id}/data", "legacy/{sensor_id}"])
    assert router.subscriptions() == ["site/+/+/data", "legacy/+"]
    assert router.match("legacy/t-3") == {"sensor_id": "t-3"}
    assert router.match("nowhere") is None
