"""Workshop visuals: the live SolaraViz dashboard (`cxsim serve`) and animations
(`cxsim animate`)."""
