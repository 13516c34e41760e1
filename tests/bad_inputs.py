"""The corpus of bad inputs: every one ends with exit 2 and one line naming what is wrong.

Each case is (id, kind, input, fragments). `kind` says how the input is given:

- ``scenario``: the text of a scenario file, loaded by ``cxsim run FILE``; ``{base}`` is
  replaced by ``extends = "baseline"`` so one lever can be tried at a time;
- ``spec``: the text of a sweep spec, loaded by ``cxsim sweep FILE``;
- ``cli``: the arguments of a command line; ``{tmp}`` is a fresh folder, ``{file}`` a file in it;
- ``org``: an org chart (`ORG_SCENARIO` points at it, relative to the scenario file, and is
  run like a scenario): CSV text saved as ``org.csv``, GraphML text (starting ``<``) saved as
  ``org.graphml``, bytes saved as ``org.csv``, or a dict of file name to text (the first file
  is the one the scenario names).

The fragments must all appear in the one error line. `scripts/gen_error_docs.py` writes this
table, with the real messages, to docs/errors.md.
"""

from __future__ import annotations

from pathlib import Path

B = '{base}\n'
EV = B + 'steps = 20\n[[events]]\n'
SPEC = ('scenario = "baseline"\nsteps = 4\n[overrides]\n"size.customers" = 300\n'
        '"size.prospects" = 100\n"size.colleagues" = 20\nburn_in = 0\n')

#: the scenario of the ``org`` cases: small, the org file beside it
ORG_SCENARIO = ('extends = "baseline"\n[size]\ncustomers = 300\nprospects = 100\n'
                '[organisation]\nfile = "{org}"\n')
#: a good org chart the ``org`` cases break one thing of (lines 1-7)
ORG = ("id,role,department,team,manager\n"
       "L1,leader,store,Board,\n"
       "M1,manager,store,Leeds,L1\n"
       "F1,frontline,store,Leeds,M1\n"
       "M2,manager,contact_centre,Sheffield,L1\n"
       "F2,frontline,contact_centre,Sheffield,M2\n"
       "B1,backoffice,billing,Billing,L1\n")
GRAPHML = ('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
           '<key id="r" for="node" attr.name="role" attr.type="string"/>\n'
           '<key id="d" for="node" attr.name="department" attr.type="string"/>\n'
           '<graph edgedefault="undirected">\n'
           '<node id="L1"><data key="r">leader</data><data key="d">store</data></node>\n'
           '<node id="F1"><data key="r">{role}</data><data key="d">store</data></node>\n'
           '<node id="F2"><data key="r">frontline</data><data key="d">contact_centre</data>'
           '</node>\n</graph>\n</graphml>\n')

CASES: list[tuple[str, str, str | bytes | dict, list[str]]] = [
    # -- scenario files ------------------------------------------------------------------------
    ("unknown key", "scenario", B + "[levers]\nbogus = 1\n",
     ["levers.bogus", "unknown key", "allowed keys here", "empowerment"]),
    ("unknown section", "scenario", B + "[marketing]\nbudget = 1\n",
     ["marketing: unknown key", "levers"]),
    ("section given as a number", "scenario", B + "levers = 5\n", ["levers = 5"]),
    ("text for a number", "scenario", B + '[levers]\nempowerment = "high"\n',
     ["levers.empowerment = 'high'", "valid number"]),
    ("quoted number", "scenario", B + '[levers]\nempowerment = "0.5"\n',
     ["levers.empowerment = '0.5'", "valid number"]),
    ("above the range", "scenario", B + "[levers]\nsilo = 1.5\n",
     ["levers.silo = 1.5", "less than or equal to 1", "allowed: 0 .. 1"]),
    ("below the range", "scenario", B + "[size]\ncustomers = -5\n",
     ["size.customers = -5", "allowed: 1 .. 50000000"]),
    ("nan", "scenario", B + "[levers]\nsilo = nan\n",
     ["levers.silo = nan", "not a finite number"]),
    ("inf", "scenario", B + "[money]\nsalary = inf\n",
     ["money.salary = inf", "not a finite number"]),
    ("minus inf", "scenario", B + "[churn]\nbase = -inf\n",
     ["churn.base = -inf", "not a finite number"]),
    ("yes for a boolean", "scenario", B + '[levers]\ndigital_channel = "yes"\n',
     ["levers.digital_channel = 'yes'", "allowed: true | false"]),
    ("1 for a boolean", "scenario", B + "[levers]\nboard_cx_role = 1\n",
     ["levers.board_cx_role = 1", "allowed: true | false"]),
    ("fraction for a whole number", "scenario", B + "[size]\ncustomers = 5000.5\n",
     ["size.customers = 5000.5", "valid integer"]),
    ("zero steps", "scenario", B + "steps = 0\n",
     ["steps = 0", "greater than or equal to 1", "allowed: 1 .. 100000"]),
    ("negative seed", "scenario", B + "seed = -1\n", ["seed = -1", "allowed: 0 .."]),
    ("number for a name", "scenario", B + "name = 5\n", ["name = 5", "valid string"]),
    ("unknown choice", "scenario", B + '[social]\nkind = "grid"\n',
     ["social.kind = 'grid'", "allowed: 'tribal' or 'random'"]),
    ("currency not a code", "scenario", B + '[money]\ncurrency = "pounds"\n',
     ["money.currency = 'pounds'", "pattern"]),
    ("personality too short", "scenario", B + "[brand]\npersonality = [0.5]\n",
     ["brand.personality", "at least 5 items"]),
    ("personality out of range", "scenario",
     B + "[brand]\npersonality = [2.0, 0.5, 0.5, 0.5, 0.5]\n",
     ["brand.personality[0] = 2.0", "allowed: 0 .. 1"]),
    ("unknown channel", "scenario", B + "[organisation]\nchannel_staff = {fax = 1.0}\n",
     ["organisation.channel_staff", "unknown channel 'fax'", "contact_centre"]),
    ("chain names a missing step", "scenario",
     B + '[process]\nchains = {store = ["fulfilment", "wrapping"]}\n',
     ["process.chains.store", "'wrapping'", "process.steps"]),
    ("too few colleagues", "scenario", B + "[size]\ncolleagues = 12\n",
     ["size.colleagues", "12 colleagues cannot staff", "at least 15 colleagues"]),
    ("broken TOML", "scenario", B + "[levers\nsilo = 0.5\n", ["broken TOML", "line 2"]),
    ("duplicate key", "scenario", B + "steps = 10\nsteps = 12\n", ["broken TOML"]),
    ("empty file", "scenario", "", ["the scenario is empty", 'extends = "baseline"']),
    ("only comments", "scenario", "# to do\n", ["the scenario is empty"]),
    ("not UTF-8", "scenario", b'name = "caf\xe9"\n', ["not UTF-8 text", "byte 11 is 0xe9"]),
    ("misspelt parent", "scenario", 'extends = "basline"\n',
     ["extends = 'basline'", "did you mean 'baseline'?"]),
    ("parent not a name", "scenario", "extends = 3\n",
     ["extends = 3", "must be a scenario name or path"]),
    ("event after the last step", "scenario", EV + 'type = "set"\nstep = 25\nset = {silo = 0.5}\n',
     ["events[0].step = 25", "after the last step", "0 to 19"]),
    ("event without a step", "scenario", EV + 'type = "set"\nset = {silo = 0.5}\n',
     ["events[0].step", "required field is missing"]),
    ("event of unknown type", "scenario", EV + 'type = "explosion"\nstep = 3\n',
     ["events[0].type = 'explosion'", "unknown event type", "set, service_failure, kpi_dashboard, "
      "complaints_first"]),
    ("event sets an unknown lever", "scenario",
     EV + 'type = "set"\nstep = 3\nset = {happiness = 0.5}\n',
     ["events[0].set", "'happiness' is not a lever", "silo"]),
    ("event sets a lever out of range", "scenario",
     EV + 'type = "set"\nstep = 3\nset = {silo = 1.5}\n',
     ["events[0].set.silo = 1.5", "less than or equal to 1"]),
    ("scoped event names an unknown channel", "scenario",
     EV + 'type = "set"\nstep = 3\nscope = "channel:fax"\nset = {empowerment = 0.5}\n',
     ["events[0].scope = 'channel:fax'", "names no channel", "channel:contact_centre"]),
    ("scoped event sets a company-wide lever", "scenario",
     EV + 'type = "set"\nstep = 3\nscope = "channel:store"\nset = {silo = 0.5}\n',
     ["events[0].set", "'silo' cannot be set for a scope", "productivity_pressure"]),
    ("scope of unknown kind", "scenario",
     EV + 'type = "set"\nstep = 3\nscope = "region:north"\nset = {empowerment = 0.5}\n',
     ["events[0].scope = 'region:north'", "should match pattern"]),
    ("scoped levers name an unknown department", "scenario",
     B + '[[scoped_levers]]\nscope = "department:legal"\nset = {empowerment = 0.5}\n',
     ["scoped_levers[0].scope = 'department:legal'", "names no department",
      "department:claims"]),
    ("scoped levers name an unknown unit", "scenario",
     B + '[[scoped_levers]]\nscope = "unit:Leeds"\nset = {empowerment = 0.5}\n',
     ["scoped_levers[0].scope = 'unit:Leeds'", "not in this organisation", "unit:0"]),
    ("event sets nan", "scenario", EV + 'type = "set"\nstep = 3\nset = {silo = nan}\n',
     ["events[0].set.silo = nan", "not a finite number"]),
    ("event sets an unknown process step", "scenario",
     EV + 'type = "set"\nstep = 3\nset = {"process.wrapping" = 0.5}\n',
     ["events[0].set", "'process.wrapping' names no process step", "process.billing"]),
    ("event severity out of range", "scenario",
     EV + 'type = "service_failure"\nstep = 3\nseverity = 2.0\n',
     ["events[0].severity = 2.0", "allowed: 0 .. 1"]),
    ("event on an unknown channel", "scenario",
     EV + 'type = "service_failure"\nstep = 3\nchannel = "fax"\n',
     ["events[0].channel = 'fax'", "'store', 'contact_centre' or 'digital'"]),
    ("events not a list", "scenario", B + "events = 5\n", ["events = 5", "valid list"]),
    # -- command lines -------------------------------------------------------------------------
    ("misspelt scenario name", "cli", "run basline --out {tmp}/out",
     ["'basline'", "did you mean 'baseline'?"]),
    ("--set without =", "cli", "run baseline --set levers.silo --out {tmp}/out",
     ["--set 'levers.silo'", "expected KEY=VALUE"]),
    ("--set out of range", "cli", "run baseline --set levers.silo=2 --out {tmp}/out",
     ["--set: levers.silo = 2", "allowed: 0 .. 1"]),
    ("--set unknown key", "cli", "run baseline --set levers.nope=1 --out {tmp}/out",
     ["--set: levers.nope: unknown key"]),
    ("--set yes for a boolean", "cli",
     "run baseline --set levers.digital_channel=yes --out {tmp}/out",
     ["levers.digital_channel = 'yes'", "allowed: true | false"]),
    ("--set on serve", "cli", "serve baseline --set levers.silo=2",
     ["--set: levers.silo = 2", "allowed: 0 .. 1"]),
    ("--set on animate", "cli", "animate baseline --out {tmp}/out/a.gif --set social.kind=grid",
     ["--set: social.kind = 'grid'", "'tribal' or 'random'"]),
    ("--set on compare", "cli", "compare baseline silos --set size.colleagues=12 --out {tmp}/out",
     ["baseline with --set", "12 colleagues cannot staff"]),
    ("--set into a number", "cli", "run baseline --set steps.x=1 --out {tmp}/out",
     ["steps.x", "'steps' is not a section"]),
    ("--out is a file", "cli", "run baseline --out {file}", ["is a file"]),
    ("--out inside a file", "cli", "run baseline --out {file}/sub",
     ["is a file, so no folder can be made inside it"]),
    ("--out holds other files", "cli", "run baseline --out {tmp}",
     ["holds files cxsim did not write", "keep.txt"]),
    ("unknown engine", "cli", "run baseline --engine fast --out {tmp}/out",
     ["--engine = 'fast'", "allowed: numba, reference"]),
    ("compare one scenario", "cli", "compare baseline --out {tmp}/out",
     ["at least two scenarios"]),
    ("compare one replication", "cli", "compare baseline culture_first --reps 1 --out {tmp}/out",
     ["--reps = 1", "at least 2"]),
    ("report of an unknown folder", "cli", "report {tmp}",
     ["no run, comparison, sweep or explanation"]),
    # -- sweep specs ---------------------------------------------------------------------------
    ("spec without vary", "spec", SPEC, ["vary: required field is missing"]),
    ("spec with zero replications", "spec",
     SPEC.replace("steps = 4", "steps = 4\nreplications = 0") + '[vary]\n"levers.silo" = [0.1]\n',
     ["replications = 0", "greater than or equal to 1"]),
    ("spec yes for a boolean", "spec",
     'common_random_numbers = "yes"\n' + SPEC + '[vary]\n"levers.silo" = [0.1]\n',
     ["common_random_numbers = 'yes'", "allowed: true | false"]),
    ("spec nan in a list", "spec", SPEC + '[vary]\n"levers.silo" = [0.1, nan]\n',
     ["vary.levers.silo[1] = nan", "not a finite number"]),
    ("spec range upside down", "spec",
     SPEC + '[vary]\n"levers.silo" = {low = 0.8, high = 0.2, levels = 3}\n',
     ["vary.levers.silo: low = 0.8 must be below high = 0.2"]),
    ("spec unknown design", "spec",
     SPEC + '[design]\nkind = "factorial"\n[vary]\n"levers.silo" = [0.1]\n',
     ["design.kind = 'factorial'", "'grid', 'lhs', 'sobol' or 'morris'"]),
    ("spec varies an unknown key", "spec", SPEC + '[vary]\n"levers.sylo" = [0.1]\n',
     ["vary.levers.sylo: no such scenario key", "did you mean 'levers.silo'?"]),
    ("spec row out of range", "spec", SPEC + '[vary]\n"levers.silo" = [0.1, 1.5]\n',
     ["design row 1", "levers.silo = 1.5", "allowed: 0 .. 1", "nothing was launched"]),
    ("spec row cannot be staffed", "spec", SPEC + '[vary]\n"size.colleagues" = [20, 12]\n',
     ["design row 1", "size.colleagues = 12", "cannot staff", "at least 15"]),
    ("spec names a missing scenario", "spec",
     SPEC.replace('"baseline"', '"basline"') + '[vary]\n"levers.silo" = [0.1]\n',
     ["scenario:", "did you mean 'baseline'?"]),
    ("spec broken TOML", "spec", "scenario = \n", ["broken TOML"]),
    # -- org charts (organisation.file) --------------------------------------------------------
    ("org file empty", "org", "", ["org.csv'", "the file is empty", "fix: a header row"]),
    ("org header only", "org", ORG.split("\n")[0] + "\n",
     ["org.csv', line 1", "no colleagues below the header row"]),
    ("org missing column", "org", ORG.replace("id,role,department,", "id,role,"),
     ["org.csv', line 1", "no column 'department'", "fix: add a column 'department'"]),
    ("org unknown role", "org", ORG.replace("F2,frontline", "F2,wizard"),
     ["org.csv', line 6", "'F2' has role 'wizard'", "fix: use one of leader, manager, "
      "frontline or backoffice"]),
    ("org dangling manager", "org", ORG.replace("F1,frontline,store,Leeds,M1",
                                                "F1,frontline,store,Leeds,X9"),
     ["org.csv', line 4", "manager 'X9' of 'F1' is not an id in the file",
      "fix: use the id of the line manager"]),
    ("org duplicate id", "org", ORG.replace("M2,manager", "F1,manager"),
     ["org.csv', line 5", "id 'F1' is already on line 4", "fix: give each colleague one row"]),
    ("org cycle in the hierarchy", "org", ORG.replace("L1,leader,store,Board,",
                                                      "L1,leader,store,Board,F1"),
     ["org.csv', line 2", "reporting lines form a loop: L1 -> F1 -> M1 -> L1",
      "fix: one colleague in the loop"]),
    ("org reports to self", "org", ORG.replace("B1,backoffice,billing,Billing,L1",
                                               "B1,backoffice,billing,Billing,B1"),
     ["org.csv', line 7", "loop: B1 -> B1"]),
    ("org node with no department", "org", ORG.replace("B1,backoffice,billing",
                                                       "B1,backoffice,"),
     ["org.csv', line 7", "'B1' has no department", "fix: give a channel or process step: "
      "store, contact_centre, onboarding"]),
    ("org unknown department", "org", ORG.replace("B1,backoffice,billing",
                                                  "B1,backoffice,Marketing"),
     ["org.csv', line 7", "'B1' has department 'Marketing'", "fix: use one of store"]),
    ("org front line outside a channel", "org", ORG.replace("F1,frontline,store",
                                                            "F1,frontline,billing"),
     ["org.csv', line 4", "'F1' is frontline in 'billing', which is not a channel"]),
    ("org without contact centre staff", "org", ORG.replace("F2,frontline", "F2,backoffice"),
     ["org.csv'", "no frontline colleague in 'contact_centre'",
      "fix: the model needs contact_centre staff"]),
    ("org empty id", "org", ORG.replace("B1,backoffice", ",backoffice"),
     ["org.csv', line 7", "the id is empty"]),
    ("org not UTF-8", "org", ORG.replace("Leeds", "Lyon Caf\xe9").encode("cp1252"),
     ["org.csv', line 3", "not UTF-8 text (byte 0xe9)", "fix: save it as 'CSV UTF-8'"]),
    ("org Excel workbook", "org", {"org.xlsx": "PK"},
     ["org.xlsx'", "an Excel workbook", "fix: in Excel, Save As 'CSV UTF-8"]),
    ("org file not found", "org", {"missing.csv": None},
     ["missing.csv'", "file not found", "relative to the scenario file"]),
    ("org edge list without its nodes", "org", {"org.csv": "source,target\nL1,F1\n"},
     ["org.csv', line 1", "an edge list needs its colleagues in org_nodes.csv"]),
    ("org edge to nobody", "org", {"org.csv": "source,target,kind\nL1,M1,peer\nF1,Z7,peer\n",
                                   "org_nodes.csv": ORG},
     ["org.csv', line 3", "edge ('F1', 'Z7') names 'Z7', which is not a colleague"]),
    ("org GraphML unknown role", "org", GRAPHML.replace("{role}", "intern"),
     ["org.graphml', line 6", "'F1' has role 'intern'"]),
    ("org GraphML broken", "org", GRAPHML.replace("{role}", "frontline").replace("</graph>", ""),
     ["org.graphml', line 9", "broken GraphML (mismatched tag)",
      "fix: repair or re-export the file"]),
]


def run_case(case: tuple, tmp: Path) -> tuple[int, str, Path]:
    """Give one case to the real command line (in process); returns exit code, output, --out."""
    import shlex

    from typer.testing import CliRunner

    from cxsim.cli import app

    _, kind, given, _ = case
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / "out"
    if kind == "org":
        files = given if isinstance(given, dict) else {
            ("org.graphml" if isinstance(given, str) and given.startswith("<") else "org.csv"):
                given}
        for name, text in files.items():
            if text is not None:
                (tmp / name).write_bytes(text.encode() if isinstance(text, str) else text)
        path = tmp / "bad.toml"
        path.write_text(ORG_SCENARIO.format(org=next(iter(files))))
        args = ["run", str(path), "--steps", "3", "--out", str(out)]
    elif kind in ("scenario", "spec"):
        path = tmp / ("bad.toml" if kind == "scenario" else "spec.toml")
        data = given.replace("{base}", 'extends = "baseline"') if isinstance(given, str) \
            else given
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        args = (["run", str(path), "--steps", "3", "--out", str(out)] if kind == "scenario"
                else ["sweep", str(path), "--out", str(out)])
    else:
        (tmp / "keep.txt").write_text("mine")
        file = tmp / "file.txt"
        file.write_text("a file")
        args = shlex.split(given.format(tmp=tmp, file=file))
    res = CliRunner().invoke(app, args, terminal_width=2000)
    return res.exit_code, res.output, out
