"""Topic templates: which MQTT topics to subscribe to, and what their levels mean.

A template names levels in braces: ``site/{building}/{sensor_id}/data``. Each field matches
exactly one level; a literal ``+`` matches one level without naming it, and a final ``#``
(or ``{name#}``, which keeps the rest of the topic under ``name``) matches any remainder.
The subscription filter is derived: ``site/+/+/data``. With a shared-subscription group
the filter becomes ``$share/<group>/site/+/+/data``; messages still carry the real topic.

Matching is compiled once per template. Results are not cached here: the MQTT connector
caches what it derives from a topic (fields, sensor id, source) in one place.

>>> template = TopicTemplate("site/{building}/{sensor_id}/data")
>>> template.filter
'site/+/+/data'
>>> template.match("site/b1/t-7/data")
{'building': 'b1', 'sensor_id': 't-7'}
>>> template.match("site/b1/t-7/status") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import InvalidInput

_FIELD = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(#?)\}$")


class TopicTemplate:
    """One template; ``match`` returns the named fields or None."""

    def __init__(self, template: str) -> None:
        if not template or template.startswith("$share/"):
            raise InvalidInput(f"bad topic template {template!r} (use the connector's "
                               "share_group option for shared subscriptions)", "bad_topic")
        self.template = template
        self._fields: list[tuple[int, str]] = []
        self._literals: list[tuple[int, str]] = []
        self._rest: str | None = None
        self._open_end = False
        levels = template.split("/")
        filter_levels: list[str] = []
        for position, level in enumerate(levels):
            last = position == len(levels) - 1
            field = _FIELD.match(level)
            if field is not None:
                name, hash_ = field.groups()
                if hash_ and not last:
                    raise InvalidInput(f"{{{name}#}} must be the last level of {template!r}",
                                       "bad_topic")
                if name in {n for _, n in self._fields} or name == self._rest:
                    raise InvalidInput(f"field {name!r} appears twice in {template!r}",
                                       "bad_topic")
                if hash_:
                    self._rest = name
                    self._open_end = True
                    filter_levels.append("#")
                else:
                    self._fields.append((position, name))
                    filter_levels.append("+")
            elif level == "#":
                if not last:
                    raise InvalidInput(f"'#' must be the last level of {template!r}",
                                       "bad_topic")
                self._open_end = True
                filter_levels.append("#")
            elif level == "+":
                filter_levels.append("+")
            elif "{" in level or "}" in level or "+" in level or "#" in level:
                raise InvalidInput(f"level {level!r} of {template!r}: a field must be a whole "
                                   "level, like {sensor_id}", "bad_topic")
            else:
                self._literals.append((position, level))
                filter_levels.append(level)
        self._levels = len(levels) - (1 if self._open_end else 0)
        self.filter = "/".join(filter_levels)
        self.fields = tuple(n for _, n in self._fields) + ((self._rest,) if self._rest else ())

    def __repr__(self) -> str:
        return f"TopicTemplate({self.template!r})"

    def subscription(self, share_group: str | None = None) -> str:
        """The filter to subscribe to, shared by ``share_group`` when given (MQTT 5)."""
        return f"$share/{share_group}/{self.filter}" if share_group else self.filter

    def match(self, topic: str) -> dict[str, str] | None:
        levels = topic.split("/")
        if len(levels) < self._levels or (not self._open_end and len(levels) != self._levels):
            return None
        if self._open_end and len(levels) == self._levels and self._rest:
            return None  # {rest#} needs at least one level to name
        for position, literal in self._literals:
            if levels[position] != literal:
                return None
        fields = {name: levels[position] for position, name in self._fields}
        if self._rest:
            fields[self._rest] = "/".join(levels[self._levels:])
        return fields


class TopicRouter:
    """Several templates; the first that matches a topic wins."""

    def __init__(self, templates: Sequence[str | TopicTemplate]) -> None:
        if not templates:
            raise InvalidInput("at least one topic template is needed", "bad_topic")
        self.templates = [t if isinstance(t, TopicTemplate) else TopicTemplate(t)
                          for t in templates]

    def subscriptions(self, share_group: str | None = None) -> list[str]:
        return [t.subscription(share_group) for t in self.templates]

    def match(self, topic: str) -> dict[str, str] | None:
        for template in self.templates:
            fields = template.match(topic)
            if fields is not None:
                return fields
        return None
