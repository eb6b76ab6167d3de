"""Red-flag safety layer: detects emergencies in the user's message and supplies fixed banners."""

from qa.safety.banners import DISCLAIMER, EMERGENCY_BANNER, URGENT_NOTICE
from qa.safety.detector import RedFlagDetector
from qa.safety.rules import RuleBook, load_rules

__all__ = ["DISCLAIMER", "EMERGENCY_BANNER", "URGENT_NOTICE", "RedFlagDetector", "RuleBook", "load_rules"]
