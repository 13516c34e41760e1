"""Unit and source of every scenario field: a study, a calibration (to which pattern) or an
assumption. docs/parameters.md is generated from this and the schema
(scripts/gen_parameter_docs.py); a test checks that every field has an entry.

Honesty note: apart from the few fields marked "study", values are the modeller's assumptions,
and the behavioural defaults were tuned so that the stylized facts of docs/model.md "remain
visible" (issue 10 calls this circular). "calibration" names the pattern of docs/validation.md
a value was set against; none was fitted formally.
"""

from __future__ import annotations

A = "assumption"
RUN = "run setting"
TUNED = "assumption (tuned so the stylized facts remain visible)"

#: field -> (unit, source)
PARAMETER_SOURCES: dict[str, tuple[str, str]] = {
    "name": ("text", RUN), "description": ("text", RUN), "extends": ("text", RUN),
    "scoped_levers": ("list of scope + levers", "lever (decision)"),
    "steps": ("weeks", RUN), "burn_in": ("weeks", RUN), "seed": ("integer", RUN),
    "size.customers": ("customers", RUN), "size.prospects": ("people", RUN),
    "size.customers_per_colleague": ("customers per colleague", A),
    "size.colleagues": ("colleagues", RUN),
    "brand.personality": ("0..1 per dimension",
                          "study: dimensions from Aaker 1997 (J Marketing Research); values "
                          "assumption"),
    "brand.promise": ("0..1 per dimension", "lever (decision): what the advertising says"),
    "levers.leadership_commitment": ("0..1 index", "lever (decision)"),
    "levers.board_cx_role": ("yes/no", "lever (decision)"),
    "levers.empowerment": ("0..1 index", "lever (decision)"),
    "levers.productivity_pressure": ("0..1 index", "lever (decision)"),
    "levers.cx_metrics_weight": ("0..1 weight", "lever (decision)"),
    "levers.pay_alignment": ("share of pay", "lever (decision)"),
    "levers.training": ("0..1 intensity", "lever (decision)"),
    "levers.co_creation": ("0..1 intensity", "lever (decision)"),
    "levers.complaints_first": ("0..1 intensity", "lever (decision)"),
    "levers.silo": ("0..1 index", "lever (decision)"),
    "levers.hiring_for_fit": ("0..1 index", "lever (decision)"),
    "levers.social_amplification": ("multiplier of talk rates", "lever (context)"),
    "levers.negativity_bias": ("ratio bad/good weight",
                               "study: Baumeister et al. 2001 (Rev Gen Psych), bad is stronger "
                               "than good; value 2 assumption"),
    "levers.digital_channel": ("yes/no", "lever (decision)"),
    "levers.digital_front_end": ("0..1 quality", "lever (decision)"),
    "levers.marketing": ("per week (Bass p)",
                         "study: Bass 1969 (Management Science) innovation coefficient; value "
                         "assumption (Sultan et al. 1990 meta-analysis: p about 0.03 a year)"),
    "levers.advertising": ("share of full coverage", "lever (decision)"),
    "levers.sales_incentive": ("share of pay", "lever (decision)"),
    "levers.score_chasing": ("0..1 intensity", "lever (decision); the reaction to noisy unit "
                             "scores it sets off: Deming 1986 (tampering), Seddon 2003"),
    "organisation.file": ("path", RUN),
    "organisation.leaders": ("leaders", A + " (one per 150 colleagues)"),
    "organisation.team_size": ("colleagues", A),
    "organisation.frontline_share": ("share", A),
    "organisation.channel_staff": ("relative headcount", A),
    "organisation.cross_team_ties": ("ties per colleague", A),
    "organisation.within_department_bias": ("share", A),
    "process.steps": ("0..1 quality (chance a step does its part right)",
                      "assumption, unchanged since the first version; with the hand-offs it "
                      "sets how often resolved work comes back (failure demand is an outcome)"),
    "process.chains": ("list of steps", A),
    "process.learning_rate": ("quality per week", TUNED),
    "process.decay": ("share per week", A),
    "process.co_creation_learning": ("ratio", A),
    "process.engagement_lift": ("engagement per week", A),
    "process.internal_engagement": (
        "quality per unit engagement", "study (form): internal service quality drives external "
        "service, Heskett et al. 1994 (HBR, service-profit chain); value assumption"),
    "process.internal_overload": ("quality per unit overload", A),
    "process.backoffice_capacity": (
        "cases per colleague per week", "assumption (the default back office runs below "
        "capacity; vacancies and failure demand push it over)"),
    "process.handoff_failure": (
        "probability per hand-off at full silo", "study (sign): work fragmented between front "
        "and back offices and by function creates failure demand, Seddon 2003 (Freedom from "
        "Command and Control); value assumption"),
    "process.silo_learning": ("share of learning", A),
    "social.kind": ("choice", A),
    "social.mean_degree": ("ties per customer", A),
    "social.triad_probability": ("probability",
                                 "study: triad formation of Holme & Kim 2002 (Phys Rev E); "
                                 "value assumption"),
    "social.tribes": ("segments", A),
    "social.homophily": ("share of ties",
                         "study: homophily, McPherson et al. 2001 (Annu Rev Sociol); value "
                         "assumption"),
    "social.personality_spread": ("0..1 personality units", A),
    "social.colleague_members": ("share of colleagues", A),
    "social.store_locality": ("share", A),
    "social.tribe_centre_low": ("0..1 per dimension", A),
    "social.tribe_centre_high": ("0..1 per dimension", A),
    "social.networkx_max_nodes": ("nodes", RUN),
    "culture.stubbornness": ("weight",
                             "study: Friedkin & Johnsen 1990 (J Math Sociol) model form; value "
                             "assumption"),
    "culture.manager_weight": ("relative weight", A),
    "culture.peer_weight": ("relative weight", A),
    "culture.brand_weight": ("relative weight", A),
    "culture.self_weight": ("relative weight", A),
    "culture.board_boost": ("multiplier", A),
    "culture.cross_silo_weight": ("weight", A),
    "culture.cross_team_silo_loss": ("share of influence", A),
    "culture.manager_spread": (
        "engagement target (sd)", "study (sign): Beck & Harter 2015 (Gallup), managers account "
        "for at least 70% of the variance of engagement across units; value assumption"),
    "culture.engagement_trait_spread": (
        "engagement target (sd)", "calibration: engagement_person_share (Young et al. 2018, "
        "personality explains 48% of the variance of individual engagement)"),
    "culture.engagement_week_spread": (
        "engagement (sd per week)", "assumption: 0 (off). Diary studies find engagement "
        "varies from week to week within a person (Bakker & Bal 2010; Bakker 2014) but two "
        "find it stable over a week (Chinelato et al. 2019; Ruiz-Zorrilla et al. 2020); no "
        "share of within-person variance could be read, so none is assumed (docs/validation.md, "
        "eighth round: what 0.05 and 0.07 do)"),
    "culture.habit_rate": (
        "share per week", "study: Lally et al. 2010 (Eur J Social Psych), habits plateau after "
        "a median 66 days: 95% of the way in ~9.4 weeks, about 0.28 per week"),
    "culture.role_modelling": (
        "share of the manager's lag", "study (mechanism): Bass, Waldman, Avolio & Bebb 1987 "
        "(Group & Organization Studies), leaders' behaviour is modelled one level down (the "
        "falling dominoes effect); Mayer et al. 2009 (OBHDP), ethical leadership trickles down "
        "from top managers through supervisors; value 1 (all of it) an assumption"),
    "culture.engagement_initial": ("0..1 engagement", A),
    "culture.engagement_initial_spread": ("sd of engagement", A),
    "culture.aptitude_spread": ("sd of aptitude", A),
    "culture.silo_top_down": ("share", A),
    "culture.personality_spread": ("0..1 personality units", A),
    "culture.department_spread": ("0..1 personality units", A),
    "culture.labour_market_centre": ("0..1 personality units", A),
    "culture.mirror_rate": ("share per week", TUNED),
    "culture.engagement_rate": ("share per week",
                                TUNED + "; the culture_half_time pattern (Kotter 1995) fails"),
    "culture.engagement_base": ("0..1 engagement", TUNED),
    "culture.engagement_empowerment": ("engagement per unit lever", TUNED),
    "culture.engagement_pressure": ("engagement per unit lever", TUNED),
    "culture.engagement_pay": ("engagement per unit lever", TUNED),
    "culture.engagement_co_creation": ("engagement per unit lever", TUNED),
    "culture.engagement_mirror": (
        "engagement per unit satisfaction",
        TUNED + "; sign: customer satisfaction raises employee satisfaction a year on (Getta "
        "2011; Zablah et al. 2016, J Applied Psychology); with it the measured unit link of "
        "engagement and CSAT is about 0.46, 0.36 without (sixth round, validation.md)"),
    "culture.engagement_peers": ("weight", "study: emotional contagion, Barsade 2002 (ASQ); "
                                 "value assumption"),
    "culture.engagement_workload": ("engagement per unit overload", A),
    "culture.headroom_pressure_loss": ("share", A),
    "culture.training_cost_headroom": ("share", A),
    "service.contact_rate": ("probability per week", A),
    "service.channel_preference": ("relative preference", A),
    "service.relationship": ("probability", A),
    "service.weight_engagement": (
        "experience per unit engagement", "calibration: engagement_performance_r (Corbeanu & "
        "Iliescu 2023: engagement correlates .36-.38 with job performance across people; "
        "Christian et al. 2011 about .43)"),
    "service.weight_brand_fit": ("experience per unit fit", TUNED),
    "service.weight_empowerment": ("experience per unit headroom", TUNED),
    "service.weight_homophily": ("experience per unit similarity", TUNED),
    "service.weight_process": ("experience per unit quality", TUNED),
    "service.rush_penalty": ("experience per unit pressure", TUNED),
    "service.noise": ("experience units (sd)", A),
    "service.homophily_bandwidth": ("personality distance", A),
    "service.digital_self_service": ("share", A),
    "service.capacity": ("contacts per colleague per week", A),
    "service.preference_spread": ("lognormal sigma", A),
    "service.fcr_intercept": (
        "log-odds", "calibration: first_contact_resolution band (SQM Group 2022: the average "
        "call centre resolves 72% of calls first time, 70-79% 'good'); the slopes are "
        "assumptions"),
    "service.fcr_skill": ("log-odds per unit skill", A),
    "service.fcr_headroom": ("log-odds per unit headroom", A),
    "service.fcr_process": ("log-odds per unit chain quality", A),
    "service.fcr_pressure": (
        "log-odds per unit pressure", "study (sign): handle-time targets cut contacts short "
        "and raise repeat calls, Seddon 2003; value assumption"),
    "service.fcr_overload": ("log-odds per unit overload", A),
    "service.fcr_repeat": ("log-odds per failed attempt", A),
    "service.unresolved_penalty": (
        "experience units", "study (sign and size): SQM Group, satisfaction is about a third "
        "higher when the issue is resolved in one contact and drops about 15% with each "
        "further call; value assumption"),
    "service.repeat_penalty": ("experience units per failed attempt",
                               "study (sign): SQM Group, as unresolved_penalty; value "
                               "assumption"),
    "service.persistence": (
        "probability per failed contact", "assumption (SQM Group: about 4 in 10 customers "
        "contact more than once about the same issue)"),
    "service.recontact_rate": (
        "probability per week", "assumption; failure demand typically 40-60% of demand in "
        "command-and-control service organisations (Seddon 2003) is an outcome, not set"),
    "perception.expectation_initial": ("0..1 experience units", A),
    "perception.expectation_adaptation": ("share per contact",
                                          "study: expectation-disconfirmation, Oliver 1980 "
                                          "(J Marketing Research); value assumption"),
    "perception.expectation_anchor": ("share per contact", A),
    "perception.satisfaction_slope": ("logistic slope", A),
    "perception.tolerance": ("experience units",
                             "study: zone of tolerance, Zeithaml, Berry & Parasuraman 1993 "
                             "(JAMS); value assumption"),
    "perception.memory_rate": ("share per contact", A),
    "perception.memory_decay": ("share per week", A),
    "perception.peak_weight": ("weight", "study: peak-end rule, Fredrickson & Kahneman 1993 "
                               "(JPSP); value assumption"),
    "perception.peak_decay": ("share per week", A),
    "perception.trust_gain": ("trust per good contact",
                              "study: trust asymmetry, Slovic 1993 (Risk Analysis); value "
                              "assumption (recovery_vs_fall pattern)"),
    "perception.trust_loss": ("share per unit badness",
                              "study: trust asymmetry, Slovic 1993; value assumption "
                              "(recovery_vs_fall pattern)"),
    "perception.trust_initial": ("0..1 trust", A),
    "perception.inconsistency_penalty": (
        "trust per unit distance", "study (sign): say-do gaps and inconsistent touchpoints cost "
        "trust (Sirdeshmukh, Singh & Sabol 2002, J Marketing: operational competence and "
        "benevolence build trust); value assumption (0.2: what trust_gain x 2 gave when the "
        "rule shared trust_gain, which tied the say-do gap to the speed of trust building)"),
    "perception.consistency_rate": ("share per contact", A),
    "perception.empathy_rate": ("share per contact", A),
    "perception.empathy_initial": ("0..1 empathy", A),
    "perception.empathy_similarity_share": ("share", A),
    "perception.market_spread": (
        "expectation 0..1 (sd)", "assumption; expectations formed against the alternatives at "
        "hand (Oliver 1980)"),
    "perception.mix_spread": (
        "disposition (sd)", "calibration: unit_answer_icc pattern, the between-store share of "
        "the variance of a customer's 0-10 answer, set to the sources' floor of about 1% "
        "(Buell, Campbell & Frei 2021, Management Science: about 1% for employee, process, "
        "location and market together in banks and fast-food chains); 0.085 is where a "
        "quadratic fit through 0, 0.08, 0.09 and 0.1 puts the mean at 1% over root seeds "
        "11-13, two runs each (0.49% at 0), seeds the validation does not use"),
    "perception.complaint_threshold": ("0..1 satisfaction", A),
    "perception.ltr_memory": ("0-10 points per unit memory", TUNED),
    "perception.ltr_trust": ("0-10 points per unit trust", TUNED),
    "perception.ltr_empathy": ("0-10 points per unit empathy", TUNED),
    "perception.ltr_bias": ("0-10 points", "calibration: nps pattern (Reichheld 2003); 4.3 "
                            "less 1.1 since the base's dispositions are sorted by churn "
                            "(`churn.attitude_share`: +0.45 sd x 2.5 points), which keeps the "
                            "base's mean likelihood to recommend where it was calibrated; set "
                            "against the surveys of that time: with the eighth round's J-shaped "
                            "non-response the measured NPS is about 33 at the same value, so "
                            "the pattern's band pins it only loosely (docs/validation.md)"),
    "perception.ltr_spread": ("0-10 points (sd)",
                              TUNED + "; drives the top_box_10 failure (Peterson & Wilson 1992)"),
    "perception.colleague_advocacy": ("weight", A),
    "word_of_mouth.talk_base": ("probability per week", A),
    "word_of_mouth.talk_extremity": (
        "probability per week", "study (form): Anderson 1998 (J Service Research), word of "
        "mouth rises at both ends of satisfaction; value assumption"),
    "word_of_mouth.negative_talk_boost": (
        "ratio", "study (sign): Anderson 1998, the dissatisfied talk somewhat more than the "
        "satisfied; value assumption"),
    "word_of_mouth.valence_midpoint": (
        "0-10 points", "assumption: between detractors (0-6) and passives (7-8) (Reichheld "
        "2003 segments)"),
    "word_of_mouth.valence_spread": (
        "0-10 points", "assumption; mixed feelings: East, Romaniuk & Lomax 2011 find word of "
        "mouth of both valences from every segment"),
    "word_of_mouth.second_hop": ("probability", A),
    "word_of_mouth.attitude_weight": ("memory per week", A),
    "word_of_mouth.expectation_weight": ("expectation per week", A),
    "word_of_mouth.adoption_q": ("per week (Bass q)",
                                 "study: Bass 1969 imitation coefficient; value assumption "
                                 "(Sultan et al. 1990: q about 0.38 a year)"),
    "word_of_mouth.detractor_repel": ("per share of detractor neighbours", A),
    "word_of_mouth.winback": ("ratio", A),
    "word_of_mouth.churned_talk": ("ratio", A),
    "image.contact_weight": (
        "share per contact", "study (form): brand image formed at touchpoints (Brakus, Schmitt "
        "& Zarantonello 2009, J Marketing; Berry 2000, J Academy Marketing Science: the "
        "service brand is made by the staff met); value assumption"),
    "image.wom_weight": (
        "share per week", "study (form): word of mouth carries brand associations (Keller 1993, "
        "J Marketing, customer-based brand equity); value assumption"),
    "image.advertising_weight": (
        "share per week", "study (size: small): Lodish et al. 1995 (J Marketing Research), most "
        "advertising moves little; value assumption"),
    "image.self_congruity": (
        "log-hazard per unit similarity", "study (sign): self-congruity, Sirgy 1982 (J Consumer "
        "Research); Aguirre-Rodriguez, Bosnjak & Sirgy 2012 (J Business Research) meta-analysis; "
        "value assumption"),
    "image.initial_spread": ("0..1 per dimension (sd)", A),
    "churn.base": ("probability per week",
                   "calibration: customer_churn band (Reichheld & Sasser 1990)"),
    "churn.memory_sensitivity": ("hazard change per unit memory",
                                 "study: satisfaction lowers churn, Gustafsson et al. 2005; "
                                 "value assumption (churn_by_segment pattern)"),
    "churn.trust_sensitivity": ("hazard change per unit trust", A),
    "churn.attitude_share": (
        "share of the individual spread", "study (mechanism): rated satisfaction predicts "
        "repurchase across customers, with response thresholds that differ by customer, Mittal "
        "& Kamakura 2001 (JMR); response styles, Baumgartner & Steenkamp 2001 (JMR); value: "
        "calibration to the churn_by_segment pattern (detractors churn 2-3 times as often as "
        "promoters, Reichheld 2003): 0.5 gave 7.5 times and a first-year NPS drift of +12 "
        "points in the baseline, 0.25 gives about 3"),
    "staff.attrition_base": ("probability per week",
                             "calibration: staff_attrition band (Batt 2002; BLS JOLTS), set "
                             "for about 24% a year (0.0045 gave 14% once vacancies and skill "
                             "with tenure were built)"),
    "staff.attrition_engagement": ("hazard change per unit engagement",
                                   "study: engaged units lose fewer staff, Harter et al. 2002; "
                                   "value assumption (unit_eng_turnover_r pattern)"),
    "staff.onboarding_lift": (
        "0..1 engagement", "study (sign): Boswell, Boudreau & Tichy 2005 (J Applied Psych), "
        "the honeymoon-hangover of new hires; a hire takes on the unit's engagement "
        "(socialisation); value assumption"),
    "staff.tenure_initial_mean": ("weeks", A),
    "staff.hire_fit_noise": ("share of the labour market's spread", A),
    "staff.new_hire_skill": (
        "share of an experienced colleague's skill", "study: new contact-centre agents are "
        "about 53% as efficient in their first month as in their twelfth (learning curves of "
        "1,800 agents in eight centres, Cinareo / Alpern)"),
    "staff.skill_weeks": (
        "weeks", "study: speed to proficiency 3-6 months for routine contact-centre work, "
        "most of the gain in the first 30-60 days (WFM Labs, speed-to-proficiency curve); "
        "value 13 weeks assumption"),
    "staff.vacancy_weeks": (
        "weeks", "study: time to hire 4.9 weeks on average in the UK (survey of 497 HR "
        "managers, StandOut CV 2023); time to fill 35 days US and 40 days UK "
        "(SmartRecruiters 2025), 34 days for customer-service jobs (Cinareo)"),
    "staff.tenure_protection": ("per week of tenure",
                                "study: turnover falls with tenure, Griffeth, Hom & Gaertner "
                                "2000 (J Management); value assumption"),
    "calibration.weeks": ("weeks", RUN),
    "calibration.posterior": ("path", RUN),
    "measurement.nps_response_rate": ("share of active customers per week", A),
    "measurement.response_lift_top": (
        "relative extra response chance", "study: Perneger, Peytremann-Bridevaux & "
        "Combescure 2020 (BMC Health Services Research 20, 717 hospital surveys): response "
        "about 70% for the maximally satisfied against around 20% for scores 3 to 7, so 3.5 "
        "times (2.5 extra), kept as a ratio at the model's low weekly response rates (on the "
        "odds scale the same figures give about 9.3: the ratio is the milder reading); "
        "patients' satisfaction taken for customers' likelihood to recommend; the linear rise "
        "from 7 is an assumption"),
    "measurement.response_lift_bottom": (
        "relative extra response chance", "study (sign): Perneger et al. 2020, response rises "
        "slightly for the least satisfied; value assumption"),
    "measurement.answer_noise": ("0-10 points (sd)", A),
    "measurement.csat_response_rate": ("share of contacts", A),
    "measurement.csat_noise": ("0..1 (sd)", A),
    "measurement.pulse_rate": ("share of colleagues per week", A),
    "measurement.pulse_noise": ("0..1 (sd)", A),
    "measurement.window": ("weeks", A),
    "measurement.score_begging": (
        "0-10 points", "study (sign): staff who are scored ask customers for the score, "
        "inflating measured satisfaction (Reichheld & Markey 2011, The Ultimate Question 2.0, "
        "ch. on gaming; Fisher & Kordupleski 2019); value assumption"),
    "selling.push_rate": ("share of contacts", A),
    "selling.acceptance": (
        "share of offers", "assumption (cross-sell offers at service contacts convert in the "
        "tens of per cent, not most of the time)"),
    "selling.commission": ("share of sale revenue", A),
    "selling.fit_share": (
        "share of pushed products", "study (sign): sales incentives lead to unsuitable sales "
        "(UK payment protection insurance mis-selling, FCA 2017; Wells Fargo 2016 accounts, "
        "CFPB consent order); value assumption"),
    "selling.misselling_trust_loss": (
        "share of trust", "study (sign): Sirdeshmukh, Singh & Sabol 2002, benevolence builds "
        "trust; value assumption"),
    "management.chase_scale": ("NPS points", A),
    "management.reaction_rate": ("share per week", A + " (monthly performance reviews)"),
    "money.revenue_per_customer": ("money per week", A + " (illustrative retail)"),
    "money.value_spread": ("lognormal sigma", A),
    "money.promoter_premium": ("share of spend",
                               "study: promoters spend more, Reichheld 2003; value assumption"),
    "money.detractor_discount": ("share of spend", A),
    "money.cost_of_sales": ("share of revenue", "calibration: margin band (Damodaran 2024)"),
    "money.salary": ("money per colleague per week", A + " (illustrative)"),
    "money.manager_salary_multiple": ("ratio", A),
    "money.hiring_cost": ("money per leaver", A),
    "money.training_cost": ("money per colleague per week", A),
    "money.pay_alignment_cost": ("money per colleague per week", A),
    "money.co_creation_cost": ("money per colleague per week", A),
    "money.board_cx_cost": ("money per week", A),
    "money.contact_cost": ("money per contact", A),
    "money.digital_fixed_cost": ("money per week", A),
    "money.acquisition_cost": ("money per acquisition", A),
    "money.currency": ("ISO 4217 code", RUN),
    "money.sale_value": ("money per sale", A + " (illustrative)"),
    "money.advertising_cost": ("money per week", A + " (illustrative)"),
}


def source_kind(source: str) -> str:
    """study | calibration | assumption | lever | run setting."""
    for kind in ("study", "calibration", "lever", "run setting"):
        if source.startswith(kind):
            return kind
    return "assumption"
