"""The malformed-scenario corpus: each file is rejected with exit 2 and one clear line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from optimizer.cli import app
from tests.conftest import DATA

BAD = DATA / "bad"

# file -> fragments the one-line message must contain (field path, problem, value)
EXPECTED: dict[str, tuple[str, ...]] = {
    "alias_bomb.yaml": ("aliases expand",),
    "bad_calendar.yaml": ("calendar_start", "YYYY-MM", "2018-13"),
    "bad_enum.yaml": ("concessions[0].reversibility", "'irreversible'", "sometimes"),
    "bad_json.json": ("bad_json.json:1", "JSON syntax error"),
    "bad_toml.toml": ("TOML syntax error",),
    "binary_junk.yaml": ("NUL bytes",),
    "credit_names_self.yaml": ("concessions[0].credit.US", "conceding party"),
    "cycle_max_lag.yaml": ("cycle", "b_after_a_end", "b_soon_after_a_start"),
    "duplicate_concession.yaml": ("concessions[1].id", "duplicate id", "'a'"),
    "duplicate_party.yaml": ("parties[1].id", "duplicate id"),
    "empty.yaml": ("empty",),
    "float_value.yaml": ("concessions[0].value", "integer", "2.5"),
    "min_gt_max_duration.yaml": ("concessions[0].duration", "min 5 > max 2"),
    "min_lag_gt_max_lag.yaml": ("rules[0]", "min_lag 5 > max_lag 2"),
    "missing_horizon.yaml": ("horizon", "required field is missing"),
    "negative_duration.yaml": ("concessions[0].duration", ">= 0", "-1"),
    "negative_exposure_max.yaml": ("rules[0].max", ">= 0", "-1"),
    "negative_max_gap.yaml": ("rules[0].max_gap", ">= 0"),
    "negative_priority.yaml": ("concessions[0].priority", ">= 0"),
    "negative_tolerance.yaml": ("rules[0].tolerance", ">= 0", "-2"),
    "negative_weight.yaml": ("objective.terms[0].weight", ">= 0", "-3"),
    "no_concessions.yaml": ("concessions", "must not be empty"),
    "not_mapping.yaml": ("mapping at the top level",),
    "override_none.yaml": ("verification_methods.none", "cannot be overridden"),
    "parties_on_makespan.yaml": ("objective.terms[0]", "only allowed on the peak_exposure"),
    "phase_min_gt_max.yaml": ("phases[0]", "min_length 6 > max_length 3"),
    "pin_at_horizon.yaml": ("concessions[0].start", "below the horizon", "24"),
    "pin_outside_window.yaml": ("concessions[0].start", "[3, 22]", "got 1"),
    "positive_cycle.yaml": ("cycle", "a_then_b", "b_then_a"),
    "resource_over_capacity.yaml": ("concessions[0].uses.inspectors", "capacity 2", "3"),
    "string_horizon.yaml": ("horizon", "expected an integer", "'24'"),
    "syntax_error.yaml": ("syntax_error.yaml:7", "YAML syntax error"),
    "unknown_key.yaml": ("concessions[0].durration", "unknown key", "did you mean 'duration'"),
    "unknown_party.yaml": ("concessions[0].party", "unknown party", "ROK"),
    "unknown_phase.yaml": ("concessions[0].phases[0]", "unknown phase", "P3"),
    "unknown_resource.yaml": ("concessions[0].uses.inspectors", "unknown resource"),
    "unknown_rule_kind.yaml": ("rules[0]", "unknown rule kind", "sequence"),
    "unknown_rule_ref.yaml": ("rules[0].after", "unknown concession", "zzz"),
    "unknown_top_key.yaml": ("concesions", "unknown key", "did you mean 'concessions'"),
    "value_names_self.yaml": ("concessions[0].value.US", "conceding party"),
    "verified_from_none.yaml": ("rules[0].from", "verification: none"),
    "window_too_small.yaml": ("concessions[0]", "earliest_start 10", "latest_end 12"),
    "wrong_extension.txt": ("unknown file type",),
    "wrong_format.yaml": ("format", "roadmap/v1", "roadmap/v2"),
    "wrong_type_duration.yaml": ("concessions[0].duration", "integer", "three"),
}

runner = CliRunner()


def test_corpus_is_complete() -> None:
    files = {p.name for p in BAD.iterdir() if p.is_file()}
    assert files == set(EXPECTED), "every bad file needs an expected message (and vice versa)"
    assert len(files) >= 25


@pytest.mark.parametrize("command", ["validate", "solve"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_rejected_with_clear_message(name: str, command: str) -> None:
    path = BAD / name
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "Traceback" not in result.output
    assert "\n" not in message, "one line"
    assert message.startswith(str(path)), "names the file"
    for fragment in EXPECTED[name]:
        assert fragment in message, (fragment, message)
    assert result.stdout == ""
