"""The review desk: a local web app where people confirm or correct what the machine could not decide, with the
page in view (``app``), the queue of flagged items (``queue``), the evidence of a cell (``evidence``) and the
command bodies of ``govinfo review``, ``govinfo evidence`` and ``govinfo corrections`` (``commands``)."""
