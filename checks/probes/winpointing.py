"""Windows mouse facts through GetSystemMetrics (ctypes), imported only on Windows.

SM_MOUSEPRESENT is non-zero when a mouse (or a touchpad, which Windows counts as one) is
installed; SM_CMOUSEBUTTONS is its number of buttons.
"""
from __future__ import annotations

SM_MOUSEPRESENT = 19
SM_CMOUSEBUTTONS = 43


class CtypesPointing:
    def mouse_present(self) -> bool:
        import ctypes

        return bool(ctypes.windll.user32.GetSystemMetrics(SM_MOUSEPRESENT))

    def button_count(self) -> int:
        import ctypes

        return int(ctypes.windll.user32.GetSystemMetrics(SM_CMOUSEBUTTONS))
