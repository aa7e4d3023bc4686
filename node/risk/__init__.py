"""The risk engine on every outflow (issue 22): rules, decisions, reviews; docs/risk.md."""
