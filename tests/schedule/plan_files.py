"""A small tower schedule as a P6 XER file (two versions), and the elements it builds, for
the tests of the schedule in the twin. Every figure the tests expect is worked out by hand
from what is written here.

Calendar: Monday to Friday, 08:00-16:00 (8 hours a day). Data date Monday 2 March 2026.

    A100  Slab L1       40 h  2-6 March      budget 1000
    A110  Columns L1    40 h  9-13 March     budget 2000   (FS after A100)
    A120  Slab L2       80 h  16-27 March    budget 4000   (FS after A110)
    M900  Topped out    finish milestone                   (FS after A120)

WBS: TOWER > L1 (A100, A110), TOWER > L2 (A120); M900 under TOWER.
"""

from __future__ import annotations

from twinsync.model import Element, PropertyValue, Source

WEEK = ("(0||CalendarData()((0||DaysOfWeek()((0||1()())"
        + "".join(f"(0||{d}()((0||0(s|08:00|f|16:00)())))" for d in range(2, 7))
        + "(0||7()())))(0||Exceptions()())))")

TASK_FIELDS = ["task_id", "proj_id", "wbs_id", "clndr_id", "task_code", "task_name",
               "task_type", "status_code", "target_drtn_hr_cnt", "remain_drtn_hr_cnt",
               "target_start_date", "target_end_date"]

#: A slab's GlobalId (the element's id is its own, to show a link by GlobalId).
SLAB_L1_GLOBAL_ID = "2O2Fr$t4X7Zf8NOew3FLOH"


def _table(name: str, fields: list[str], rows: list[list[str]]) -> list[str]:
    return [f"%T\t{name}", "%F\t" + "\t".join(fields), *("%R\t" + "\t".join(r) for r in rows)]


def tower_xer(version: int = 1) -> bytes:
    """Version 2 lengthens A100 to 48 h, drops M900 and adds A130 (roof, 16 h)."""
    tasks = [
        ["1", "1", "101", "10", "A100", "Slab L1", "TT_Task", "TK_NotStart",
         "48" if version == 2 else "40", "48" if version == 2 else "40",
         "2026-03-02 08:00", "2026-03-06 16:00"],
        ["2", "1", "101", "10", "A110", "Columns L1", "TT_Task", "TK_NotStart", "40", "40",
         "2026-03-09 08:00", "2026-03-13 16:00"],
        ["3", "1", "102", "10", "A120", "Slab L2", "TT_Task", "TK_NotStart", "80", "80",
         "2026-03-16 08:00", "2026-03-27 16:00"],
    ]
    preds = [["1", "2", "1", "PR_FS", "0"], ["2", "3", "2", "PR_FS", "0"]]
    if version == 1:
        tasks.append(["4", "1", "100", "10", "M900", "Topped out", "TT_FinMile", "TK_NotStart",
                      "0", "0", "2026-03-27 16:00", "2026-03-27 16:00"])
        preds.append(["3", "4", "3", "PR_FS", "0"])
    else:
        tasks.append(["5", "1", "102", "10", "A130", "Roof", "TT_Task", "TK_NotStart",
                      "16", "16", "2026-03-30 08:00", "2026-03-31 16:00"])
        preds.append(["4", "5", "3", "PR_FS", "0"])
    lines = ["ERMHDR\t19.12\t2026-03-01\tProject\tadmin\tplanner\tdb\tPM\tEUR"]
    lines += _table("PROJECT", ["proj_id", "proj_short_name", "clndr_id", "last_recalc_date",
                                "plan_start_date"],
                    [["1", "TOWER", "10", "2026-03-02 08:00", "2026-03-02 08:00"]])
    lines += _table("CALENDAR", ["clndr_id", "default_flag", "clndr_name", "day_hr_cnt",
                                 "clndr_data"], [["10", "Y", "Site 5x8", "8", WEEK]])
    lines += _table("PROJWBS", ["wbs_id", "proj_id", "parent_wbs_id", "wbs_short_name",
                                "wbs_name"],
                    [["100", "1", "", "TOWER", "Tower"], ["101", "1", "100", "L1", "Level 1"],
                     ["102", "1", "100", "L2", "Level 2"]])
    lines += _table("TASK", TASK_FIELDS, tasks)
    lines += _table("TASKPRED", ["task_pred_id", "task_id", "pred_task_id", "pred_type",
                                 "lag_hr_cnt"], preds)
    # A100's budget is two assignments; A120's an assignment and an expense.
    lines += _table("TASKRSRC", ["taskrsrc_id", "task_id", "target_cost", "act_reg_cost",
                                 "act_ot_cost"],
                    [["1", "1", "600", "0", "0"], ["2", "1", "400", "0", "0"],
                     ["3", "2", "2000", "0", "0"], ["4", "3", "3000", "0", "0"]])
    lines += _table("PROJCOST", ["cost_item_id", "task_id", "target_cost", "act_cost"],
                    [["1", "3", "1000", "0"]])
    lines.append("%E")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def tower_elements() -> list[Element]:
    """Two storeys; a slab and two columns on Level 1; a slab on Level 2 that names its
    activity in a property."""
    return [
        Element("L1", "IfcBuildingStorey", "Level 1"),
        Element("L2", "IfcBuildingStorey", "Level 2"),
        Element("slab-1", "IfcSlab", "Slab L1", global_id=SLAB_L1_GLOBAL_ID, parent="L1"),
        Element("col-1", "IfcColumn", "Column C1", parent="L1"),
        Element("col-2", "IfcColumn", "Column C2", parent="L1"),
        Element("slab-2", "IfcSlab", "Slab L2", parent="L2",
                properties={"ActivityCode": PropertyValue("A120", source=Source.BIM)}),
    ]
