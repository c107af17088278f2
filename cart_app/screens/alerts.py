"""The alert banner: the oldest open alert, the daemon's hint, and buttons that answer it."""

from __future__ import annotations

from functools import partial

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from cart_app import theme
from cart_app.guidance import Action, guide
from cart_app.widgets import BigButton


class AlertBanner(BoxLayout):
    shown = BooleanProperty(False)
    title = StringProperty("")
    hint = StringProperty("")
    counter = StringProperty("")
    kind = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._refresh = Clock.create_trigger(self.refresh)
        App.get_running_app().cart.bind(
            alerts=self._refresh, lines=self._refresh, pending=self._refresh, state=self._refresh
        )
        self._refresh()

    def refresh(self, *_args: object) -> None:
        cart = App.get_running_app().cart
        box = self.ids.actions
        box.clear_widgets()
        if not cart.alerts or cart.state == "idle":
            self.shown = False
            self.kind = ""
            return
        guidance = guide(cart.alerts[0], cart.snapshot_view())
        self.shown = True
        self.kind = guidance.kind
        self.title = guidance.title
        self.hint = guidance.hint
        self.counter = f"1 of {len(cart.alerts)}" if len(cart.alerts) > 1 else ""
        for action in guidance.actions:
            tint = theme.SECONDARY if action.screen else theme.PANEL
            button = BigButton(text=action.label, size_hint=(None, None), tint=tint, pos_hint={"center_y": 0.5})
            button.font_size = theme.FONT_SMALL
            text_w = len(action.label) * theme.FONT_SMALL * 0.55 + 28
            button.width = max(theme.TOUCH * 2.2, min(theme.TOUCH * 4, text_w))
            button.action = action  # tests read which intent a button carries
            button.bind(on_release=partial(self.act, action))
            box.add_widget(button)

    def act(self, action: Action, *_args: object) -> None:
        app = App.get_running_app()
        if action.op:
            app.link.send(action.op, **action.args)
        if action.screen:
            app.show(action.screen)
