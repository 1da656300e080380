"""Case analyses (Wirkungsfaktoren): which factors go with a faster and more lasting integration.

The analyses run on pseudonymised data only. ``analysis_frame`` turns the KPI rows of ``dataset_load`` into
a pandas DataFrame without names, AHV numbers, birth dates or database ids: cases and persons are keyed
hashes, the age is a band, the residence a district. Everything else (Kaplan–Meier curves, the Cox model,
the export for evaluators) is computed from that frame.

Time to integration is counted in days from the opening of the case to the integration, as the KPI catalogue
defines it (``iiz.steering.kpis.INTEGRATION``: a job in the first labour market found or kept: event = 1).
Cases closed otherwise (training, stabilised, dropout, moving away) are censored at their closure, open cases
today (event = 0). Dropping out is thus treated like the end of observation, which flatters the curves
somewhat; the page says so.

Groups and features with too few integrations say nothing reliable: a group of a dimension is shown with at
least ``MIN_EVENTS`` integrations (the published count, see ``iiz.steering.publication``); the smaller groups
of a dimension whose groups do not overlap are merged into one "other groups", or left out where even that
stays below. The Cox model takes at most one feature per ``MIN_EVENTS`` integrations (events per variable),
leaves out features with separation (no integration with, or without, the feature: a hazard ratio of 0 or
infinity is an artefact, not an effect) and says so; each category is compared with a named reference, each
feature flag with the cases without it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lifelines.utils import median_survival_times

from iiz.audit.models import AuditAction
from iiz.audit.services import audit_record
from iiz.cases.models import FollowUpStatus, LifeSituation, ServiceOffering
from iiz.organisations.models import Institution, InstitutionKind
from iiz.steering.kpis import INTEGRATION, CaseRow, Period, Scope, dataset_load
from iiz.steering.publication import MAX_DEVIATION, Publisher

if TYPE_CHECKING:
    from iiz.organisations.models import User

# Below about 30 cases the 95 % confidence band of a Kaplan–Meier curve at 180 days spans more than
# ±15 percentage points, too wide to tell groups apart; results on fewer cases carry a warning.
MIN_CASES = 30
# About ten events (integrations) per group, and per variable of a Cox model, are the usual rule of thumb
# below which estimates are biased and their confidence intervals unreliable (Peduzzi et al. 1995/1996).
MIN_EVENTS = 10
# A small ridge penalty keeps the Cox model estimable when flags are rare or nearly collinear; it shrinks
# the hazard ratios only slightly towards 1.
PENALIZER = 0.01
# Hazard ratios beyond these bounds come from (quasi-)separation: a flag whose cases all or never integrate.
HR_PLAUSIBLE = (1e-3, 1e3)
# Two flags correlated beyond this go together in nearly every case; the model cannot tell their effects apart.
COLLINEAR = 0.9
SURVIVAL_DAYS = (90, 180, 365)
LASTING_MONTHS = 12

AGE_BANDS: list[tuple[str, str, int, int]] = [
    ("-25", "≤25", 0, 25),
    ("26-39", "26–39", 26, 39),
    ("40-54", "40–54", 40, 54),
    ("55-", "55+", 55, 200),
]
INSTITUTION_COUNT_BANDS = ("1", "2", "3", "4+")
LEVELS = (1, 2, 3)


def suppression_threshold() -> int:
    return int(getattr(settings, "IIZ_SUPPRESSION_THRESHOLD", 5))


def pseudonym(kind: str, value: int) -> str:
    """A keyed hash: stable across exports, not reversible without the platform's secret key."""
    return salted_hmac(f"iiz.steering.analyses.{kind}", str(value)).hexdigest()[:12]


def age_band(age: int) -> str:
    for key, _label, low, high in AGE_BANDS:
        if low <= age <= high:
            return key
    return AGE_BANDS[0][0] if age < 0 else AGE_BANDS[-1][0]


def institution_count_band(count: int) -> str:
    return str(count) if count < 4 else "4+"


# ---------------------------------------------------------------------------------------------------------
# Filters and labels
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisFilter:
    """Which cases enter the analysis: opened in a range of periods (or all), of one life situation."""

    start: Period | None = None
    end: Period | None = None
    life_situation: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, str]) -> AnalysisFilter:
        """From the query string; raises ValueError with a message for the user."""
        start = Period.parse(data["von"]) if (data.get("von") or "").strip() else None
        end = Period.parse(data["bis"]) if (data.get("bis") or "").strip() else None
        if start and end and start.start > end.end:
            raise ValueError(
                _("Der Beginn «%(von)s» liegt nach dem Ende «%(bis)s».") % {"von": start.label, "bis": end.label}
            )
        code = (data.get("lebenssituation") or "").strip() or None
        if code is not None and not LifeSituation.objects.filter(code=code).exists():
            raise ValueError(_("Unbekannte Lebenssituation «%(code)s».") % {"code": code[:40]})
        return cls(start, end, code)

    def query(self) -> dict[str, str]:
        values = {"von": self.start.label if self.start else "", "bis": self.end.label if self.end else ""}
        values["lebenssituation"] = self.life_situation or ""
        return {k: v for k, v in values.items() if v}

    def applies(self, case: CaseRow) -> bool:
        if self.start and case.opened_on < self.start.start:
            return False
        return not (self.end and case.opened_on > self.end.end)


@dataclass
class Labels:
    """Names for the codes in the frame, read once from the catalogues."""

    life_situations: dict[str, str]
    services: dict[str, str]
    institution_kinds: dict[int, str]  # institution id -> kind

    @classmethod
    def load(cls) -> Labels:
        return cls(
            life_situations=dict(LifeSituation.objects.order_by("position", "code").values_list("code", "name")),
            services=dict(ServiceOffering.objects.order_by("institution_kind", "code").values_list("code", "name")),
            institution_kinds=dict(Institution.objects.values_list("id", "kind")),
        )

    def column(self, column: str) -> str:
        """A readable name for a covariate column of the frame."""
        family, _sep, code = column.partition(":")
        if family == "ls":
            return _("Lebenssituation: %s") % self.life_situations.get(code, code)
        if family == "inst":
            return _("Beteiligt: %s") % InstitutionKind(code).label if code in InstitutionKind.values else code
        if family == "measure":
            return _("Massnahme: %s") % self.services.get(code, code)
        if family == "age":
            return _("Alter %s") % {k: label for k, label, _l, _h in AGE_BANDS}.get(code, code)
        if family == "level":
            return _("Höchste Stufe %s") % code
        return column


# ---------------------------------------------------------------------------------------------------------
# The pseudonymised frame
# ---------------------------------------------------------------------------------------------------------


def _lasting(case: CaseRow) -> bool | None:
    """Still integrated at the 12-month follow-up: None when not integrated or not (yet) asked."""
    if case.outcome not in INTEGRATION or LASTING_MONTHS not in case.follow_ups:
        return None
    status = case.follow_ups[LASTING_MONTHS]
    if status == FollowUpStatus.UNKNOWN:
        return None
    return status == FollowUpStatus.STILL_INTEGRATED


def _days(start: dt.date | None, end: dt.date | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    return (end - start).days


def analysis_frame(cases: Iterable[CaseRow], *, labels: Labels, today: dt.date) -> pd.DataFrame:
    """One row per case, with no name, AHV number, birth date, free text or database id."""
    order = {code: position for position, code in enumerate(labels.life_situations)}
    records: list[dict[str, Any]] = []
    for case in cases:
        integrated = case.closed_on is not None and case.outcome in INTEGRATION
        end: dt.date = (case.outcome_on or case.closed_on or today) if integrated else (case.closed_on or today)
        kinds = {labels.institution_kinds[i] for i in case.institutions if i in labels.institution_kinds}
        situations = sorted(case.life_situations, key=lambda code: (order.get(code, len(order)), code))
        record: dict[str, Any] = {
            "case_id": case.id,  # never exported: only for publishing counts
            "record_key": case.record_key,
            "case": pseudonym("case", case.id),
            "person": pseudonym("person", case.client_id),
            "opened_year": case.opened_on.year,
            "district": case.district,
            "duration": max((end - case.opened_on).days, 0),
            "event": int(integrated),
            "outcome": case.outcome or "open",
            "age_band": age_band(case.opened_on.year - case.birth_year),
            "life_situation": situations[0] if situations else "",
            "life_situations": ";".join(situations),
            "n_institutions": len(case.institutions),
            "institution_kinds": ";".join(sorted(kinds)),
            "max_level": case.max_level,
            "measures": ";".join(sorted(case.measure_services)),
            "lasting_12m": _lasting(case),
            "follow_up_6": case.follow_ups.get(6, ""),
            "follow_up_12": case.follow_ups.get(12, ""),
            "days_detection_to_opening": _days(case.detected_on, case.opened_on),
            "days_to_level3": _days(case.opened_on, case.first_level3_on),
            "days_to_plan": _days(case.opened_on, case.first_plan_agreed_on),
            "benefit_days": _days(case.opened_on, case.benefits_ended_on),
        }
        record.update({f"ls:{code}": 1 for code in situations})
        record.update({f"inst:{kind}": 1 for kind in kinds})
        record.update({f"measure:{code}": 1 for code in case.measure_services})
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=["case", "duration", "event", "age_band", "max_level", "n_institutions"])
    flags = [c for c in frame.columns if c.partition(":")[0] in {"ls", "inst", "measure"}]
    frame[flags] = frame[flags].fillna(0).astype(int)
    frame["lasting_12m"] = frame["lasting_12m"].astype("boolean")
    return frame


def flag_columns(frame: pd.DataFrame, family: str) -> list[str]:
    return sorted(c for c in frame.columns if c.startswith(f"{family}:"))


# ---------------------------------------------------------------------------------------------------------
# Kaplan–Meier curves by group
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurvivalAt:
    days: int
    survival: float | None  # S(t): share not yet integrated; None when the group is not observed that long
    lower: float | None
    upper: float | None

    @property
    def integrated(self) -> float | None:
        return None if self.survival is None else 1 - self.survival

    @property
    def integrated_lower(self) -> float | None:
        return None if self.upper is None else 1 - self.upper

    @property
    def integrated_upper(self) -> float | None:
        return None if self.lower is None else 1 - self.lower


@dataclass
class GroupCurve:
    key: str
    label: str
    n: int
    events: int
    median: float | None  # days to integration for half of the group; None when not reached
    median_lower: float | None
    median_upper: float | None
    steps: list[tuple[float, float, float, float]]  # time, S(t), lower, upper
    at_days: list[SurvivalAt]
    lasting: tuple[int, int] | None  # still integrated at 12 months, of integrated with a follow-up
    warnings: list[str] = field(default_factory=list)

    @property
    def observed_until(self) -> float:
        return self.steps[-1][0] if self.steps else 0.0


@dataclass
class DimensionResult:
    key: str
    label: str
    groups: list[GroupCurve]
    hidden: int  # how many groups are not shown (below the threshold, or hidden to protect them)
    overlapping: bool  # a case can be in several groups
    logrank_p: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def days_shown(self) -> list[int]:
        """The days of the survival columns that some group is observed that long (no empty column)."""
        observed = {p.days for g in self.groups for p in g.at_days if p.survival is not None}
        return [d for d in SURVIVAL_DAYS if d in observed]

    @property
    def has_lasting(self) -> bool:
        return any(group.lasting for group in self.groups)


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _publisher(frame: pd.DataFrame) -> Publisher:
    """A publisher for the frame's cases, with their record keys (no query)."""
    if frame.empty or "record_key" not in frame:
        return Publisher(keys={})
    return Publisher(keys=dict(zip(frame["case_id"].tolist(), frame["record_key"].tolist(), strict=True)))


def _published(part: pd.DataFrame) -> tuple[int, int]:
    """The published numbers of cases and integrations of a group (``iiz.steering.publication``)."""
    publisher = _publisher(part)
    return (
        publisher.count(part["case_id"].tolist()).value,
        publisher.count(part.loc[part["event"] == 1, "case_id"].tolist()).value,
    )


def _curve(key: str, label: str, part: pd.DataFrame, threshold: int) -> GroupCurve:
    n, events = _published(part)
    from lifelines import KaplanMeierFitter  # imported here: lifelines is heavy and only these pages need it

    kmf = KaplanMeierFitter().fit(part["duration"], part["event"])
    sf = kmf.survival_function_["KM_estimate"]
    ci = kmf.confidence_interval_survival_function_
    steps = [
        (float(t), float(s), float(lo), float(hi))
        for t, s, lo, hi in zip(sf.index, sf.values, ci.iloc[:, 0].values, ci.iloc[:, 1].values, strict=True)
    ]
    last = float(part["duration"].max())
    at_days = []
    for day in SURVIVAL_DAYS:
        if day > last:
            at_days.append(SurvivalAt(day, None, None, None))
            continue
        row = max((step for step in steps if step[0] <= day), key=lambda step: step[0])
        at_days.append(SurvivalAt(day, row[1], row[2], row[3]))
    median = _finite(kmf.median_survival_time_)
    median_lower = median_upper = None
    if median is not None:
        bounds = median_survival_times(kmf.confidence_interval_)
        median_lower, median_upper = _finite(bounds.iloc[0, 0]), _finite(bounds.iloc[0, 1])
    asked = part["lasting_12m"].dropna() if "lasting_12m" in part else pd.Series(dtype="boolean")
    still, total = int(asked.sum()), len(asked)
    # Publish the 12-month share only when neither those still integrated nor the others are a small number.
    small = any(0 < count < threshold for count in (still, total - still))
    lasting = None if small or total == 0 else (still, total)
    curve = GroupCurve(key, label, n, events, median, median_lower, median_upper, steps, at_days, lasting)
    if n < MIN_CASES:
        curve.warnings.append(_("Nur %(n)d Fälle: zu wenige für eine verlässliche Aussage.") % {"n": n})
    if events < MIN_EVENTS:
        curve.warnings.append(_("Nur %(e)d Integrationen: zu wenige für eine verlässliche Aussage.") % {"e": events})
    return curve


def _dimension_groups(frame: pd.DataFrame, key: str, labels: Labels) -> list[tuple[str, str, pd.Series]]:
    """The groups of a dimension as (key, label, mask over the frame)."""
    if key == "age_band":
        return [(k, label, frame["age_band"] == k) for k, label, _low, _high in AGE_BANDS]
    if key == "level":
        return [(str(level), _("Stufe %d") % level, frame["max_level"] == level) for level in LEVELS]
    if key == "institutions":
        bands = frame["n_institutions"].map(institution_count_band)
        groups = [(band, _("%s Institution(en)") % band, bands == band) for band in INSTITUTION_COUNT_BANDS]
        return [("0", _("keine Beteiligung erfasst"), frame["n_institutions"] == 0), *groups]
    family, names, none_label = {
        "life_situation": ("ls", labels.life_situations, _("ohne erfasste Lebenssituation")),
        "measures": ("measure", labels.services, _("ohne Massnahme im vereinbarten Plan")),
    }[key]
    columns = flag_columns(frame, family)
    ordered = [c for code in names if (c := f"{family}:{code}") in columns] + [
        c for c in columns if c.partition(":")[2] not in names
    ]
    groups = [(c.partition(":")[2], names.get(c.partition(":")[2], c), frame[c] == 1) for c in ordered]
    none = frame[columns].sum(axis=1) == 0 if columns else pd.Series(True, index=frame.index)
    return [*groups, ("", none_label, none)]


# key, title, whether a case can be in several groups of the dimension
DIMENSIONS: list[tuple[str, str | Promise, bool]] = [
    ("life_situation", gettext_lazy("Lebenssituation"), True),
    ("age_band", gettext_lazy("Altersgruppe bei Fall-Eröffnung"), False),
    ("institutions", gettext_lazy("Anzahl beteiligter Institutionen"), False),
    ("level", gettext_lazy("Höchste erreichte Stufe"), False),
    ("measures", gettext_lazy("Massnahmen im vereinbarten Integrationsplan"), True),
]


def publishable(part: pd.DataFrame, threshold: int) -> bool:
    """A group is shown with at least MIN_EVENTS integrations and threshold + 3 cases, as published: fewer
    events give no reliable curve, and the published counts decide, so that showing tells no more than they."""
    if part.empty:
        return False
    n, events = _published(part)
    return n >= max(threshold + MAX_DEVIATION, MIN_EVENTS) and events >= MIN_EVENTS


def km_by_dimension(frame: pd.DataFrame, key: str, labels: Labels, *, threshold: int) -> DimensionResult:
    label, overlapping = next((str(lbl), ov) for k, lbl, ov in DIMENSIONS if k == key)
    if frame.empty:
        return DimensionResult(key, label, [], 0, overlapping)
    candidates = [(k, lbl, mask) for k, lbl, mask in _dimension_groups(frame, key, labels) if mask.sum() > 0]
    shown = [(k, lbl, mask) for k, lbl, mask in candidates if publishable(frame[mask], threshold)]
    rest = [(k, lbl, mask) for k, lbl, mask in candidates if not publishable(frame[mask], threshold)]
    merged = 0
    if rest and not overlapping and len(rest) > 1:
        # Groups that do not overlap can be merged: together they may have enough integrations.
        mask = rest[0][2].copy()
        for _k, _lbl, other in rest[1:]:
            mask |= other
        if publishable(frame[mask], threshold):
            shown.append(("other", _("übrige Gruppen (%(names)s)") % {"names": ", ".join(g[1] for g in rest)}, mask))
            merged = len(rest)
    hidden = len(rest) - merged
    result = DimensionResult(key, label, [], hidden, overlapping)
    for k, lbl, mask in shown:
        result.groups.append(_curve(k, lbl, frame[mask], threshold))
    if merged:
        result.notes.append(
            _("%(count)d Gruppen mit weniger als %(min)d Integrationen sind zu «übrige Gruppen» zusammengefasst.")
            % {"count": merged, "min": MIN_EVENTS}
        )
    if hidden:
        result.notes.append(
            _(
                "%(hidden)d Gruppe(n) mit weniger als %(min)d Integrationen (oder weniger als %(n)d Fällen) sind "
                "nicht dargestellt: zu wenige für eine verlässliche Kurve."
            )
            % {"hidden": hidden, "min": MIN_EVENTS, "n": max(threshold + MAX_DEVIATION, MIN_EVENTS)}
        )
    if not overlapping and len(shown) >= 2:
        visible = pd.concat([frame[mask].assign(_group=k) for k, _lbl, mask in shown])
        if visible["event"].sum() > 0:
            from lifelines.statistics import multivariate_logrank_test

            test = multivariate_logrank_test(visible["duration"], visible["_group"], visible["event"])
            result.logrank_p = _finite(test.p_value)
    return result


# ---------------------------------------------------------------------------------------------------------
# The Cox proportional hazards model
# ---------------------------------------------------------------------------------------------------------


@dataclass
class CoxRow:
    column: str
    label: str
    n: int  # cases with the feature
    events: int  # integrations among them
    hazard_ratio: float
    lower: float
    upper: float
    p: float
    warnings: list[str] = field(default_factory=list)
    events_shown: int | None = None  # the events, or None (the suppressed marker) when a small number


@dataclass
class CoxResult:
    n: int
    events: int
    rows: list[CoxRow] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # reference categories of age and level
    separated: list[tuple[str, str]] = field(default_factory=list)  # label, why: no estimate is possible
    dropped: list[tuple[str, str]] = field(default_factory=list)  # label, reason
    small_dropped: int = 0  # features left out because fewer than the threshold have (or lack) them
    message: str | None = None  # why no model could be fitted
    warnings: list[str] = field(default_factory=list)
    concordance: float | None = None


def _candidate_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[list[str]]]:
    """The design's binary columns, grouped in families; age band and level as dummy columns."""
    design = pd.DataFrame(index=frame.index)
    for key, *_rest in AGE_BANDS:
        design[f"age:{key}"] = (frame["age_band"] == key).astype(int)
    for level in LEVELS:
        design[f"level:{level}"] = (frame["max_level"] == level).astype(int)
    families = [[f"age:{key}" for key, *_rest in AGE_BANDS], [f"level:{level}" for level in LEVELS]]
    for family in ("ls", "inst", "measure"):
        columns = flag_columns(frame, family)
        design[columns] = frame[columns]
        families.append(columns)
    return design, families


def _select_covariates(
    design: pd.DataFrame,
    families: list[list[str]],
    labels: Labels,
    result: CoxResult,
    threshold: int,
    events: pd.Series,
) -> list[str]:
    n = len(design)
    total_events = int(events.sum())
    kept: list[tuple[int, str]] = []  # (the smaller of the events with and without the feature, column)
    for number, family in enumerate(families):
        usable = []
        for column in family:
            with_flag = int(design[column].sum())
            if with_flag == 0:
                continue
            if with_flag == n:
                result.dropped.append((labels.column(column), _("bei allen Fällen gleich")))
            elif with_flag < threshold or n - with_flag < threshold:
                # Not named: naming it would tell that a handful of persons have (or lack) the feature.
                result.small_dropped += 1
            else:
                usable.append(column)
        if number < 2 and usable:
            # Age band and level are categories: the most frequent one is the reference the others compare with.
            reference = max(usable, key=lambda column: (int(design[column].sum()), column))
            result.references.append(
                _("%(family)s: %(reference)s")
                % {
                    "family": _("Altersgruppe") if number == 0 else _("höchste Stufe"),
                    "reference": labels.column(reference),
                }
            )
            usable = [c for c in usable if c != reference]
        for column in usable:
            flagged = design[column] == 1
            with_events = int(events[flagged].sum())
            without_events = total_events - with_events
            if with_events == 0 or without_events == 0:
                # Separation: the likelihood has no maximum, and a fitted hazard ratio of 0 or infinity is an
                # artefact. Reported, not estimated.
                result.separated.append(
                    (
                        labels.column(column),
                        _("keine Integration mit diesem Merkmal")
                        if with_events == 0
                        else _("keine Integration ohne dieses Merkmal"),
                    )
                )
                continue
            kept.append((min(with_events, without_events), column))
    # Events per variable: at most one feature per MIN_EVENTS integrations, those with the most information first.
    room = total_events // MIN_EVENTS
    kept.sort(key=lambda item: (-item[0], item[1]))
    for _info, column in kept[room:]:
        result.dropped.append(
            (
                labels.column(column),
                _("weniger als %(min)d Integrationen je Merkmal im Modell: nicht aufgenommen") % {"min": MIN_EVENTS},
            )
        )
    chosen_columns = [column for _info, column in kept[:room]]
    # Leave out columns that are linear combinations of others (and of the baseline): not estimable. The rank
    # of the columns equals that of their Gram matrix, which is small whatever the number of cases.
    matrix = np.column_stack([np.ones(n)] + [design[column].to_numpy(dtype=float) for column in chosen_columns])
    gram = matrix.T @ matrix
    selected: list[str] = []
    chosen = [0]
    for position, column in enumerate(chosen_columns, start=1):
        candidate = [*chosen, position]
        if np.linalg.matrix_rank(gram[np.ix_(candidate, candidate)]) == len(candidate):
            chosen = candidate
            selected.append(column)
        else:
            result.dropped.append((labels.column(column), _("durch andere Merkmale bestimmt")))
    return selected


def cox_model(frame: pd.DataFrame, labels: Labels, *, threshold: int) -> CoxResult:
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    n = len(frame)
    events = int(frame["event"].sum()) if n else 0
    result = CoxResult(n=n, events=events)
    if n < threshold:
        result.message = _("Zu wenige Fälle für ein Modell (weniger als %d).") % threshold
        return result
    if events == 0:
        result.message = _(
            "Keine Integration in den ausgewählten Fällen: ohne Ereignisse lässt sich kein Modell schätzen."
        )
        return result
    if events == n:
        result.message = _("Alle ausgewählten Fälle sind integriert: ohne Vergleich lässt sich kein Modell schätzen.")
        return result
    design, families = _candidate_columns(frame)
    covariates = _select_covariates(design, families, labels, result, threshold, frame["event"])
    if not covariates:
        result.message = _(
            "Kein Merkmal lässt sich schätzen: Es braucht mindestens %(t)d Fälle mit und ohne das Merkmal, "
            "Integrationen auf beiden Seiten und mindestens %(min)d Integrationen je Merkmal."
        ) % {"t": threshold, "min": MIN_EVENTS}
        return result
    correlation = design[covariates].corr().abs()
    for position, first in enumerate(covariates):
        for second in covariates[position + 1 :]:
            if correlation.loc[first, second] > COLLINEAR:
                result.warnings.append(
                    _("«%(a)s» und «%(b)s» treten fast immer gemeinsam auf: ihre Wirkungen lassen sich nicht trennen.")
                    % {"a": labels.column(first), "b": labels.column(second)}
                )
    data = design[covariates].assign(duration=frame["duration"], event=frame["event"])
    fitter = CoxPHFitter(penalizer=PENALIZER)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitter.fit(data, duration_col="duration", event_col="event")
        except ConvergenceError:
            result.message = _(
                "Das Modell konvergiert nicht: vermutlich bestimmen einzelne Merkmale das Ergebnis vollständig "
                "(z. B. alle Fälle mit einer Massnahme integriert) oder sind fast gleichbedeutend. Weniger Merkmale "
                "oder mehr Fälle (längerer Zeitraum) helfen."
            )
            return result
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            result.message = _("Das Modell lässt sich mit diesen Daten nicht schätzen (numerisch instabil).")
            return result
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        result.warnings.append(
            _(
                "Die Schätzung meldet Konvergenzprobleme (seltene oder fast gleichbedeutende Merkmale): einzelne "
                "Hazard Ratios sind unsicher."
            )
        )
    if events / len(covariates) < MIN_EVENTS:
        result.warnings.append(
            _(
                "Nur %(events)d Integrationen für %(k)d Merkmale (weniger als %(min)d je Merkmal): das Modell ist "
                "überladen, die Hazard Ratios sind unsicher."
            )
            % {"events": events, "k": len(covariates), "min": MIN_EVENTS}
        )
    if n < MIN_CASES:
        result.warnings.append(_("Nur %(n)d Fälle: zu wenige für eine verlässliche Aussage.") % {"n": n})
    summary = fitter.summary
    for column in covariates:
        row = summary.loc[column]
        mask = design[column] == 1
        cox_row = CoxRow(
            column=column,
            label=labels.column(column),
            n=int(mask.sum()),
            events=int(frame.loc[mask, "event"].sum()),
            hazard_ratio=float(row["exp(coef)"]),
            lower=float(row["exp(coef) lower 95%"]),
            upper=float(row["exp(coef) upper 95%"]),
            p=float(row["p"]),
        )
        publisher = _publisher(frame)
        cox_row.events_shown = publisher.count(frame.loc[mask & (frame["event"] == 1), "case_id"].tolist()).value
        cox_row.n = publisher.count(frame.loc[mask, "case_id"].tolist()).value
        if cox_row.n < MIN_CASES or cox_row.events < MIN_EVENTS:
            cox_row.warnings.append(_("wenige Fälle oder Integrationen"))
        low, high = HR_PLAUSIBLE
        if not (low < cox_row.hazard_ratio < high) or not math.isfinite(cox_row.upper):
            # Quasi-separation the counts did not show: no estimate rather than a hazard ratio of 0.00.
            result.separated.append((cox_row.label, _("das Merkmal bestimmt das Ergebnis fast vollständig")))
            continue
        result.rows.append(cox_row)
    result.concordance = _finite(fitter.concordance_index_)
    return result


# ---------------------------------------------------------------------------------------------------------
# The analysis of a filter, and the export for evaluators
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Analysis:
    filters: AnalysisFilter
    threshold: int
    n: int
    events: int
    dimensions: list[DimensionResult]
    cox: CoxResult
    labels: Labels
    n_shown: int | None = None  # the published counts of cases and integrations (None: "< t")
    events_shown: int | None = None

    @property
    def censored(self) -> int:
        return self.n - self.events


def analysis_cases(*, filters: AnalysisFilter) -> list[CaseRow]:
    dataset = dataset_load(scope=Scope(life_situation=filters.life_situation))
    return [case for case in dataset.cases if filters.applies(case)]


def case_analysis(*, filters: AnalysisFilter, today: dt.date | None = None) -> Analysis:
    """Kaplan–Meier curves per dimension and the Cox model for the cases of a filter."""
    threshold = suppression_threshold()
    labels = Labels.load()
    frame = analysis_frame(analysis_cases(filters=filters), labels=labels, today=today or timezone.localdate())
    n = len(frame)
    events = int(frame["event"].sum()) if n else 0
    publisher = _publisher(frame)
    n_shown = publisher.count(frame["case_id"].tolist() if n else []).shown
    events_shown = publisher.count(frame.loc[frame["event"] == 1, "case_id"].tolist() if n else []).shown
    if n_shown is None or (events and events_shown is None):
        # Too few cases (or integrations) published to say anything without exposing them.
        return Analysis(filters, threshold, n, events, [], CoxResult(n, events), labels, n_shown, events_shown)
    dimensions = [km_by_dimension(frame, key, labels, threshold=threshold) for key, _label, _ov in DIMENSIONS]
    return Analysis(
        filters,
        threshold,
        n,
        events,
        dimensions,
        cox_model(frame, labels, threshold=threshold),
        labels,
        n_shown,
        events_shown,
    )


EXPORT_COLUMNS = [
    "case",
    "person",
    "opened_year",
    "age_band",
    "district",
    "life_situations",
    "institution_kinds",
    "n_institutions",
    "max_level",
    "measures",
    "duration",
    "event",
    "outcome",
    "days_detection_to_opening",
    "days_to_level3",
    "days_to_plan",
    "benefit_days",
    "follow_up_6",
    "follow_up_12",
    "lasting_12m",
]


def _csv_value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def analysis_export(*, actor: User, filters: AnalysisFilter, request: HttpRequest | None = None) -> str:
    """The pseudonymised case histories as CSV, and the audit entry that records who took them."""
    frame = analysis_frame(analysis_cases(filters=filters), labels=Labels.load(), today=timezone.localdate())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for record in frame.reindex(columns=EXPORT_COLUMNS).itertuples(index=False):
        writer.writerow([_csv_value(value) for value in record])
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="analysis_export",
        details={"filters": filters.query(), "rows": len(frame), "columns": EXPORT_COLUMNS},
        request=request,
    )
    return out.getvalue()
