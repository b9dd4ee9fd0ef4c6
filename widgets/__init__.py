"""The bubble-monitor widgets, one per module; they receive Snapshots and never query."""
