"""The fixed safety texts. Reviewed wording: change only with clinical review, never generate.

Sources: NHS "Is your baby or toddler seriously ill?"; CDC and Epilepsy Foundation seizure
first aid ("call 911 if..."); NHS Healthier Together febrile convulsion and fever-under-3-months
guidance; HSE Ireland (112/999). See qa/data/redflags/ for the per-rule sources.
"""

from __future__ import annotations

EMERGENCY_BANNER = (
    "This may be an emergency. Call your local emergency number now (911 in the US, 999 in the UK, "
    "112 in Europe).\n"
    "Call now if your baby is not breathing or is struggling to breathe; has blue, grey or very pale lips "
    "or skin; has a seizure lasting 5 minutes or more, or one seizure after another; has a first-ever "
    "seizure; cannot be woken or is floppy; has a rash that does not fade under a glass; has a bulging soft "
    "spot; or is under 3 months old with a temperature of 38 °C (100.4 °F) or more.\n"
    "While you wait: stay with your baby, lay them on their side on a flat, safe surface, put nothing in "
    "their mouth, and note the time a seizure started.\n"
    "This chat cannot assess emergencies."
)

URGENT_NOTICE = (
    "See a doctor today. What you describe (for example clusters of spasms or jerks, a baby losing skills "
    "they had, or an unusual high-pitched cry while unwell) needs a same-day check. Call your doctor or a "
    "nurse advice line now (NHS 111 in the UK); call your emergency number if your baby gets worse.\n"
    "This chat cannot assess your baby."
)

DISCLAIMER = (
    "This is general information from curated sources, not medical advice. "
    "If you are worried about your baby, contact a doctor."
)
