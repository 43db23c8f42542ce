"""The README's small example ("Freeze for relief"), read from README.md itself.

The authoring tests build it from nothing in the app and check that the app's
working copy is this scenario and its solved figures are ``optimizer.solve``'s.
"""

from __future__ import annotations

from pathlib import Path

from models import Scenario, loads_scenario

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> Scenario:
    text = README.read_text(encoding="utf-8")
    block = text.split("A small example:", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    return loads_scenario(block, "yaml", "README.md")


# What the planner types, field by field (the README's values).
PHASES = [("P1", "Halt", 1, 6), ("P2", "Roll back", 1, None)]
CONCESSIONS = [
    # id, party, title, duration, value, reversibility, verification, optional
    ("test_moratorium", "DPRK", "Moratorium on nuclear and ICBM tests", 1, "7", "reversible",
     "ntm", False),
    ("exercise_limits", "US", "Limit joint military exercises", 1, "6", "reversible", "public",
     False),
    ("yongbyon_freeze", "DPRK", "Freeze Yongbyon under IAEA monitoring", 2, "8", "costly",
     "monitoring", False),
    ("sanctions_relief", "US", "Lift some unilateral sanctions", 3, "5", "costly", "public",
     True),
]
RULES = [
    "id: freeze_for_freeze\nkind: reciprocity\na: test_moratorium\nb: exercise_limits\n"
    "max_gap: 2\ntext: Test moratorium and exercise limits start within two months of each "
    "other\n",
    "id: verify_then_relieve\nkind: precedence\nbefore: yongbyon_freeze\n"
    "after: sanctions_relief\nfrom: verified\nto: start\n"
    "text: Relief only after the freeze is verified\n",
    "id: no_cliff\nkind: exposure\nparties: [US, DPRK]\nmax: 6\n"
    "text: Neither side is ever more than 6 out on a limb\n",
]
OBJECTIVE = ["peak_exposure", "makespan", "excluded_value"]
