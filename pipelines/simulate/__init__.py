"""National simulator of anonymised registration events (contract v1).

``simulate(landing_dir, SimulationConfig(...))`` draws a synthetic national population of
persons with critical information, the organisations that register it and every change to every
entry, and writes them as the producer would deliver them: one NDJSON file per delivery day,
``events-YYYY-MM-DD.ndjson``, written under a hidden temporary name and renamed. Same config
(seed included) -> byte-identical files. ``docs/simulator.md`` has the longer account.

Calibration (scale 1.0, see ``model.NEW_PERSONS_PER_YEAR``)
------------------------------------------------------------
Published anchors (``published_statistics.csv``): about 97,000 persons with critical information
registered at the end of 2022, +15 % on 2021 (so about 84,000 at the end of 2021), 35 % of an
estimated need of 274,000 (about 5 % of the 5,425,270 inhabitants).

* New persons (first entry ever) arrive as a Poisson process per county, proportional to the
  county's population. The national baseline rate is linear between mid-year knots, from
  7,900/year in 2014 to 18,700 in 2022 and 22,700 in 2026 (weekday and month factors average 1).
  Expected new persons per year: 2014 8.3k, 2015 10.6k, 2016 12.3k, 2017 13.3k, 2018 14.3k,
  2019 15.2k, 2020 16.0k, 2021 17.2k, 2022 18.6k -> 107.0k by the end of 2021, 125.6k by the
  end of 2022.
* Persons leave the register (all entries inactivated) at an age-dependent hazard (weighted
  mean about 4.5 %/year: 13 %/year for those registered at 80+), and entries end on their own
  at a type-dependent hazard (1 %/year for drug reactions, 40 %/year for infections); 1.5 % of
  entries are withdrawn as entered-in-error and 0.6 % of allergies/conditions later refuted.
  Net, about 79 % of everyone ever registered is still registered at the end of 2021 and 77 %
  at the end of 2022: 0.788 x 107.0k = 84.4k and 0.773 x 125.6k = 97.1k (+15.0 %); in 2022,
  18.6k new persons minus 5.9k who left = +12.7k. Measured on the seed-2024 run: 84,365 and
  97,053 (the plausibility test checks +-15 % at scale 0.02).
* Each person has 1-4 entries (mean 1.5; 35 % of further entries in the same session), each
  entry 1 created event, about 0.6 updates (confirmation of unconfirmed entries, a revision
  every 10 years on average), at most one terminal event. At scale 1.0 over 2014-01-01 ..
  2026-10-31: 213,776 persons, 295,728 entries, 550,868 events and, with the default mess
  rates, 556,946 lines (5,524 redeliveries, 554 malformed) in 4,687 files; about 40-50 s.
  Volume is proportional to ``scale`` (``--scale 1.0`` already gives >= 500k events).
* Stock by the end of October 2026 is about 156k persons (57 % of the estimated need).

The injected effect (the truth a later effect estimate must recover)
--------------------------------------------------------------------
From a region's API go-live (``config.api_go_live``), the rate of new persons whose home county
lies in that region is multiplied by ``1 + api_rate_uplift * ramp``, where ``ramp`` rises
linearly from 0 at go-live to 1 after ``ramp_months`` (``config.rate_multiplier``). Over the
same ramp the probability that an event by an organisation of that region goes through the API
rises to ``api_share_after_ramp`` (``config.api_share``); before go-live every event of the
region is a portal event. Only new persons are affected, not further entries or updates. The
summary carries realised new persons and their expectation without/with the effect per
(region, month) and ``SimulationSummary.injected_effect()``.

Assumptions
-----------
* The world starts at ``config.start`` (nothing before 2014, when the core record opened): for
  the calibrated national history keep the default start; a later start simulates a register
  that begins empty on that day.
* Municipality numbers are synthetic: county ``CC`` with ``n`` municipalities (counties.csv)
  gets ``CC01``..``CCnn``, sized by a Zipf law. Only the county prefix is meaningful.
* Organisations are synthetic (valid modulus-11 organisation numbers starting with 8 or 9):
  23 hospital trusts by region, a GP office per 4,000 inhabitants, one municipal health
  service per municipality, an emergency service per two municipalities, a private specialist
  per 25,000 inhabitants, each with one EPJ product (DIPS Arena in hospitals, Helseplattformen
  in Central Norway, CGM/Infodoc/System X/Gerica/Profil/CosDoc/Pridok elsewhere). 92 % of events
  come from an organisation in the person's county (hospitals: region), 8 % from anywhere.
  60 % of later events on an entry come from the organisation that created it.
* Times: Europe/Oslo; weekdays mostly 08-16, weekends less. ``recordedDate`` (AllergyIntolerance,
  Condition; ``performedPeriod.start``, ``period.start``, ``recordedOn``, ``dateTime`` for the
  others) is when the entry was first recorded in the EPJ: minutes to hours before the created
  event for the API, hours to days for the portal; it stays the same in later versions.
* Coding gaps: 8 % of drug reactions registered in the portal name their substance as text only
  (``code.text``, no ATC coding), while an EPJ sends its coded substance list through the API;
  10 % of allergies are registered without criticality (an update may add it). These shares
  (``portal_substance_as_text_share``, ``missing_criticality_share``) are assumptions, not
  published figures, so that the ATC and completeness metrics have something to measure.
* 12 % of persons move once (75 % within the county); later events carry the new municipality.
* Mess (``writer``): a late event is delivered 1..30 days after the day it occurred; a
  redelivery repeats the identical line 0..7 days after the first delivery (never more than 30
  days after the event); a malformed line is an extra line (own event id) of one of five kinds:
  broken JSON, missing required field, value outside type/enum, invalid FHIR R4, patient
  reference that does not match the pseudonym. Nothing is delivered after ``config.end``.
* No free text names a person, and no value is an 11-digit number, so nothing trips the
  identifier guard.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.simulate.config import DEFAULT_API_GO_LIVE, SimulationConfig, SimulationSummary
from pipelines.simulate.model import World
from pipelines.simulate.writer import schedule, write

__all__ = ["DEFAULT_API_GO_LIVE", "SimulationConfig", "SimulationSummary", "simulate"]


def simulate(landing_dir: Path, config: SimulationConfig | None = None) -> SimulationSummary:
    """Simulate the national register for ``config`` and write its delivery files to ``landing_dir``.

    Raises ``FileExistsError`` (before writing anything) if a file it would write already exists.
    """
    config = config or SimulationConfig()
    world = World(config)
    world.run()
    deliveries = schedule(world.events, config, world.rng)
    paths, lines = write(Path(landing_dir), deliveries)
    return SimulationSummary(
        files_written=len(paths),
        lines_written=lines,
        events=len(world.events),
        duplicates_written=deliveries.duplicates,
        malformed_written=deliveries.malformed,
        late_events=deliveries.late,
        persons=len(world.persons),
        entries=world.entries,
        config=config,
        files=tuple(paths),
        malformed_by_kind=dict(deliveries.malformed_by_kind),
        new_persons_by_region_month=dict(sorted(world.new_persons.items())),
        expected_new_persons_by_region_month={
            key: (round(v[0], 6), round(v[1], 6)) for key, v in sorted(world.expected_new_persons.items())
        },
    )
