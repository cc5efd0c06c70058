"""The database as the product uses it: a writer with every layer's tables ready, loads that keep the KPI facts
current, the demo exports, and the named queries of what was loaded."""
