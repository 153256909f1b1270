"""A small IFC4 file with a work schedule, written by hand in STEP.

Work schedule WS-1 starts Monday 2 March 2026 08:00. It controls the summary task L1 and
the milestone M900; L1 nests A100 (16 h, 2-3 March) and A110 (24 h, FS after A100 with an
8 h lag). M900 follows A110. The slab builds A100 (IfcRelAssignsToProcess); the column is
assigned A110 (IfcRelAssignsToProduct). A100 is half done (Completion 0.5).
"""

from __future__ import annotations

import uuid

import ifcopenshell.guid


def gid(name: str) -> str:
    """A fixed GlobalId for a name (the IFC base-64 form of a UUID made from it)."""
    return str(ifcopenshell.guid.compress(uuid.uuid5(uuid.NAMESPACE_URL, name).hex))


SLAB, COLUMN = gid("slab"), gid("column")


def tower_ifc(sequence_type: str = ".FINISH_START.", lag: str = "IFCDURATION('PT8H')",
              controlled: str = "(#20,#30)") -> bytes:
    lines = [
        "ISO-10303-21;",
        "HEADER;",
        "FILE_DESCRIPTION(('ViewDefinition [ReferenceView]'),'2;1');",
        "FILE_NAME('tower-4d.ifc','2026-03-01T08:00:00',(''),(''),'','','');",
        "FILE_SCHEMA(('IFC4'));",
        "ENDSEC;",
        "DATA;",
        f"#1=IFCPROJECT('{gid('project')}',$,'Tower',$,$,$,$,$,$);",
        f"#2=IFCBUILDINGELEMENTPROXY('{SLAB}',$,'Slab L1',$,$,$,$,$,$);",
        f"#3=IFCBUILDINGELEMENTPROXY('{COLUMN}',$,'Column C1',$,$,$,$,$,$);",
        f"#10=IFCWORKSCHEDULE('{gid('ws')}',$,'Construction',$,$,'WS-1',"
        "'2026-03-01T08:00:00',$,$,$,$,'2026-03-02T08:00:00',$,.PLANNED.);",
        f"#20=IFCTASK('{gid('L1')}',$,'Level 1',$,$,'L1',$,$,$,.F.,$,$,.CONSTRUCTION.);",
        f"#21=IFCTASK('{gid('A100')}',$,'Slab L1',$,$,'A100',$,$,$,.F.,$,#31,.CONSTRUCTION.);",
        "#31=IFCTASKTIME($,$,$,.WORKTIME.,'PT16H','2026-03-02T08:00:00','2026-03-03T17:00:00',"
        "$,$,$,$,$,$,$,$,$,'2026-03-02T08:00:00',$,$,0.5);",
        f"#22=IFCTASK('{gid('A110')}',$,'Columns L1',$,$,'A110',$,$,$,.F.,$,#32,"
        ".CONSTRUCTION.);",
        "#32=IFCTASKTIME($,$,$,.WORKTIME.,$,'2026-03-05T08:00:00','2026-03-09T17:00:00',"
        "$,$,$,$,$,$,$,$,$,$,$,$,$);",
        f"#30=IFCTASK('{gid('M900')}',$,'Topped out',$,$,'M900',$,$,$,.T.,$,#33,.NOTDEFINED.);",
        "#33=IFCTASKTIME($,$,$,.WORKTIME.,'PT0S',$,$,$,$,$,$,$,$,$,$,$,$,$,$,$);",
        f"#40=IFCRELSEQUENCE('{gid('s1')}',$,$,$,#21,#22,#41,{sequence_type},$);",
        f"#41=IFCLAGTIME($,$,$,{lag},.WORKTIME.);",
        f"#42=IFCRELSEQUENCE('{gid('s2')}',$,$,$,#22,#30,$,.FINISH_START.,$);",
        f"#50=IFCRELASSIGNSTOCONTROL('{gid('c1')}',$,$,$,{controlled},$,#10);",
        f"#51=IFCRELNESTS('{gid('n1')}',$,$,$,#20,(#21,#22));",
        f"#60=IFCRELASSIGNSTOPROCESS('{gid('p1')}',$,$,$,(#2),$,#21,$);",
        f"#61=IFCRELASSIGNSTOPRODUCT('{gid('p2')}',$,$,$,(#22),$,#3);",
        "ENDSEC;",
        "END-ISO-10303-21;",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")
