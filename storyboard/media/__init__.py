"""Reading, verifying and assembling video.

``timeline`` is pure (the plan shows it before anything is paid); every module that
touches video imports PyAV lazily through ``deps.load_av()``, so ``pip install
storyboard`` without the ``media`` extra still validates, plans and runs.
"""
