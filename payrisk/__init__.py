"""payrisk: when each open invoice will be paid, how likely it is to default, and why."""

__version__ = "0.1.0"
