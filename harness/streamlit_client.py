"""A minimal asyncio client of Streamlit's websocket protocol (Streamlit 1.67), for load tests.

It does what a browser tab does, without drawing anything: it opens `/_stcore/stream`, sends
`BackMsg.rerun_script` with a `ClientState` (query string, page, widget states), and reads
`ForwardMsg`s until the run's `script_finished`. An HTTP-only load tool never runs the script;
this does, so the server pays the real cost of a rerun (script, cache, protobuf, websocket).

What the protocol needs, read from `streamlit/web/server/starlette/starlette_websocket.py`,
`runtime/app_session.py` and from the frames a real Chromium sends:
- Subprotocol "streamlit". The second and third entries of `Sec-WebSocket-Protocol` carry
  an XSRF token and a session id to resume; both are optional. XSRF is only checked for
  connections that send an `Origin` header, and this client sends none.
- Nothing happens until the client sends the first `rerun_script`; the browser sends one on
  load with the query string, an empty `widget_states` and `page_name` = the URL path
  ("" for the default page, "batch_sizes" for /batch_sizes). Later reruns name the page by
  `page_script_hash` and carry the state of every widget on the page.
- A run starts with `new_session` and ends with `script_finished`; both carry
  `metadata.run.script_run_id`. A `script_finished` of FINISHED_EARLY_FOR_RERUN ends an
  older run that a newer request interrupted.
- `ref_hash` messages (references to ForwardMsgs the browser has cached) are only sent for
  hashes listed in `ClientState.cached_message_hashes`. This client lists none, so every
  message arrives in full (and the client keeps no message cache that would grow).
- Messages can be large (a Plotly spec): the websocket's `max_size` must be raised from
  the `websockets` default of 1 MiB.
- Widget values go in the `WidgetState` field the browser uses: sliders `double_array_value`,
  select_sliders `string_array_value` of the formatted option, int number_inputs
  `int_value`, float ones `double_value`, selectbox/radio `string_value`, checkbox
  `bool_value`.

Example:
    >>> async def demo(url):  # doctest: +SKIP
    ...     async with StreamlitClient(url) as client:
    ...         first = await client.connect()
    ...         slider = first.widget("Learning rate")
    ...         result = await client.rerun({slider.id: slider.options[3]})
    ...         return result.elapsed, result.exceptions
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

# Streamlit's own ceiling for a ForwardMsg is server.maxMessageSize (200 MB by default).
MAX_MESSAGE_BYTES = 256 * 2**20


class StreamlitProtocolError(RuntimeError):
    """The server closed the connection or answered in a way this client does not expect."""


@dataclass(frozen=True)
class Widget:
    """A widget as the server described it in a delta.

    Attributes:
        id: the widget id the server expects back in `WidgetState.id`.
        label: the label shown next to the widget.
        kind: the element type: "slider", "number_input", "selectbox", "radio", "checkbox"...
        proto: the element's protobuf (e.g. a `Slider`), for its min, max, step and options.
    """

    id: str
    label: str
    kind: str
    proto: Any

    def __repr__(self) -> str:
        return f"Widget({self.kind} {self.label!r}, id={self.id!r})"

    @property
    def is_select_slider(self) -> bool:
        return self.kind == "slider" and self.proto.type == self.proto.SELECT_SLIDER

    @property
    def options(self) -> list[str]:
        """The formatted options of a select_slider, selectbox or radio ([] otherwise)."""
        return list(getattr(self.proto, "options", []))

    def random_value(self, rng: random.Random) -> Any:
        """A random value the widget accepts, for load tests.

        A select_slider, selectbox or radio gets one of its options (which st.cache_data
        may well have seen before); a float slider or number_input gets any float in range,
        off the step grid, so a rerun with it misses st.cache_data; an int one an int in range.
        """
        p = self.proto
        if self.kind in ("selectbox", "radio") or self.is_select_slider:
            return rng.choice(self.options)
        if self.kind == "checkbox":
            return rng.random() < 0.5
        if self.kind == "slider":
            if p.data_type not in (p.INT, p.FLOAT):
                raise NotImplementedError("Random values for date/time sliders are not needed.")
            low, high = p.min, p.max
            if p.data_type == p.INT:
                step = max(1, int(p.step))
                draw = [low + step * rng.randint(0, int((high - low) // step)) for _ in "ab"]
            else:
                draw = [rng.uniform(low, high) for _ in "ab"]
            return sorted(draw) if len(p.default) == 2 else draw[0]
        if self.kind == "number_input":
            low = p.min if p.has_min else p.default - 10 * (p.step or 1)
            high = p.max if p.has_max else p.default + 10 * (p.step or 1)
            if p.data_type == p.INT:
                return rng.randint(int(low), int(high))
            return rng.uniform(low, high)
        raise NotImplementedError(f"No random value for a {self.kind} widget yet.")

    def state(self, value: Any) -> WidgetState:
        """Build the `WidgetState` a browser would send for `value`.

        Args:
            value: a number for a slider or number_input (a pair for a range slider), an
                option's formatted string for a select_slider, selectbox or radio, a bool for a
                checkbox, True for a button's click.
        """
        ws = WidgetState(id=self.id)
        if self.kind == "slider":
            values = list(value) if isinstance(value, list | tuple) else [value]
            if self.is_select_slider:
                ws.string_array_value.data.extend(str(v) for v in values)
            else:
                ws.double_array_value.data.extend(float(v) for v in values)
        elif self.kind == "number_input":
            if self.proto.data_type == self.proto.INT:
                ws.int_value = int(value)
            else:
                ws.double_value = float(value)
        elif self.kind in ("selectbox", "radio"):
            ws.string_value = str(value)
        elif self.kind == "checkbox":
            ws.bool_value = bool(value)
        elif self.kind == "button":
            ws.trigger_value = bool(value)
        else:
            raise NotImplementedError(f"No WidgetState for a {self.kind} widget yet.")
        return ws


@dataclass(frozen=True)
class Component:
    """A custom component as the server drew it: its proto (``id``, ``bytes`` …) and the id of
    the fragment it belongs to ("" outside a fragment)."""

    proto: Any
    fragment_id: str

    def trigger(self, event: str, value: Any) -> WidgetState:
        """The one-shot ``WidgetState`` a browser sends for ``setTriggerValue(event, value)``:
        every trigger of a component travels in one aggregator widget, whose id Streamlit
        derives from the component's (``bidi_component/main.py``, ``_make_trigger_id``)."""
        return WidgetState(
            id=_make_trigger_id(self.proto.id, "events"),
            json_trigger_value=json.dumps([{"event": event, "value": value}]),
        )


@dataclass
class RunResult:
    """What one script run sent back.

    Attributes:
        elapsed: seconds from sending `rerun_script` to receiving its `script_finished`.
        messages: every ForwardMsg received in that time, in order.
        status: the `ForwardMsg.ScriptFinishedStatus` of the run.
        page_script_hash: the page that ran.
        arrivals: seconds from sending to the arrival of each of ``messages``.
    """

    elapsed: float
    messages: list[ForwardMsg] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    status: int = ForwardMsg.FINISHED_SUCCESSFULLY
    page_script_hash: str = ""

    def __repr__(self) -> str:
        return (
            f"RunResult({self.elapsed * 1000:.1f} ms, {len(self.messages)} msgs, "
            f"{len(self.exceptions)} exceptions)"
        )

    @property
    def elements(self) -> list[Any]:
        """The `Element` protos of the run's `new_element` deltas, in order."""
        return [
            m.delta.new_element
            for m in self.messages
            if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element"
        ]

    @property
    def auto_reruns(self) -> dict[str, float]:
        """The fragments this run asked the browser to rerun on a timer: id -> seconds."""
        return {
            m.auto_rerun.fragment_id: m.auto_rerun.interval
            for m in self.messages
            if m.WhichOneof("type") == "auto_rerun"
        }

    @property
    def nbytes(self) -> int:
        """The bytes of the run's messages, as serialized on the websocket."""
        return sum(m.ByteSize() for m in self.messages)

    @property
    def components(self) -> list[Component]:
        """The custom components (``st.components.v2``) the run drew, with their fragments."""
        return [
            Component(m.delta.new_element.bidi_component, m.delta.fragment_id)
            for m in self.messages
            if m.WhichOneof("type") == "delta"
            and m.delta.WhichOneof("type") == "new_element"
            and m.delta.new_element.WhichOneof("type") == "bidi_component"
        ]

    def elements_of(self, kind: str) -> list[Any]:
        """The sub-protos of one element type, e.g. `elements_of("plotly_chart")`."""
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    @property
    def exceptions(self) -> list[Any]:
        """`Exception` protos: an error shown on the page (st.exception or an uncaught error)."""
        return [e for e in self.elements_of("exception") if not e.is_warning]

    @property
    def error_alerts(self) -> list[str]:
        """Bodies of the `st.error` boxes of the run (a page may show some on purpose)."""
        return [a.body for a in self.elements_of("alert") if a.format == a.ERROR]

    @property
    def widgets(self) -> dict[str, Widget]:
        """The run's widgets by label (the first one wins if two share a label)."""
        found: dict[str, Widget] = {}
        for element in self.elements:
            kind = element.WhichOneof("type")
            proto = getattr(element, kind)
            widget_id = getattr(proto, "id", "")
            label = getattr(proto, "label", None)
            if widget_id and label is not None and label not in found:
                found[label] = Widget(id=widget_id, label=label, kind=kind, proto=proto)
        return found

    def widget(self, label: str) -> Widget:
        """The widget labelled `label`; KeyError naming the labels present otherwise."""
        widgets = self.widgets
        if label not in widgets:
            raise KeyError(f"No widget labelled {label!r}. Labels present: {sorted(widgets)}.")
        return widgets[label]


class StreamlitClient:
    """One simulated browser tab on a Streamlit server.

    Widget values persist across reruns, as in a browser: each `rerun` sends every value set
    so far, and values not set fall back to the script's defaults (or the query string, for
    widgets bound with `bind="query-params"`).

    Args:
        url: `ws://127.0.0.1:PORT/_stcore/stream`, or the http base URL of the server.
        page: the page's URL path, "" for the default page (e.g. "batch_sizes").
        query_string: the URL query without "?", e.g. "n=10000&batch_size=1".
        timeout: seconds to wait for one run to finish.
    """

    def __init__(
        self, url: str, page: str = "", query_string: str = "", timeout: float = 60.0
    ) -> None:
        if url.startswith("http"):
            url = "ws" + url[4:].rstrip("/") + "/_stcore/stream"
        self.url = url
        self.page = page.strip("/")
        self.query_string = query_string.lstrip("?")
        self.timeout = timeout
        self.page_script_hash = ""
        self.widget_states: dict[str, WidgetState] = {}
        self.last: RunResult | None = None
        self._ws: Any = None

    def __repr__(self) -> str:
        state = "open" if self._ws is not None else "closed"
        return f"StreamlitClient({self.url!r}, page={self.page!r}, {state})"

    async def __aenter__(self) -> StreamlitClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> RunResult:
        """Open the websocket and do the first run, as a browser does on page load."""
        self._ws = await websockets.connect(
            self.url,
            subprotocols=["streamlit"],
            max_size=MAX_MESSAGE_BYTES,
            open_timeout=self.timeout,
            ping_interval=None,  # A busy server may not answer pings in time; not a failure.
        )
        return await self.rerun()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    def client_state(
        self,
        widget_states: dict[str, Any] | None = None,
        query_string: str | None = None,
    ) -> ClientState:
        """The `ClientState` of the next rerun, after merging in `widget_states`."""
        for widget_id, value in (widget_states or {}).items():
            if isinstance(value, WidgetState):
                self.widget_states[widget_id] = value
            else:
                self.widget_states[widget_id] = self._widget_by_id(widget_id).state(value)
        if query_string is not None:
            self.query_string = query_string.lstrip("?")
        state = ClientState(query_string=self.query_string)
        state.widget_states.SetInParent()
        state.widget_states.widgets.extend(self.widget_states.values())
        if self.page_script_hash:
            state.page_script_hash = self.page_script_hash
        else:
            state.page_name = self.page
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url = self.url.replace("ws", "http", 1).replace("/_stcore/stream", "/" + self.page)
        return state

    async def rerun(
        self,
        widget_states: dict[str, Any] | None = None,
        query_string: str | None = None,
        page: str | None = None,
        fragment_id: str = "",
    ) -> RunResult:
        """Send `rerun_script` and wait for that run's `script_finished`.

        Args:
            widget_states: widget id -> value (see `Widget.state`) or a ready `WidgetState`.
            query_string: replaces the query string (without "?").
            page: switch to another page by URL path ("" = default page); widget states
                are dropped, as when a browser follows a page link.
            fragment_id: rerun only this fragment, as the browser's timer does for a
                fragment with ``run_every`` (its id is in the run's `auto_rerun` message).

        Returns:
            The `RunResult`: elapsed seconds, the ForwardMsgs and the finish status.
        """
        if self._ws is None and self.last is not None:
            raise StreamlitProtocolError("The client is closed.")
        if page is not None and page.strip("/") != self.page:
            self.page, self.page_script_hash = page.strip("/"), ""
            self.widget_states.clear()
        back = BackMsg()
        back.rerun_script.CopyFrom(self.client_state(widget_states, query_string))
        if fragment_id:
            back.rerun_script.fragment_id = fragment_id
            back.rerun_script.is_auto_rerun = True
        t0 = time.perf_counter()
        try:
            await self._ws.send(back.SerializeToString())
        except websockets.ConnectionClosed as exc:
            raise StreamlitProtocolError(f"The server closed the websocket: {exc}") from exc
        result = await asyncio.wait_for(self._read_run(t0), self.timeout)
        self.last = result
        return result

    async def _read_run(self, t0: float) -> RunResult:
        messages: list[ForwardMsg] = []
        arrivals: list[float] = []
        run_id = None
        while True:
            try:
                data = await self._ws.recv()
            except websockets.ConnectionClosed as exc:
                raise StreamlitProtocolError(f"The server closed the websocket: {exc}") from exc
            if isinstance(data, str):
                raise StreamlitProtocolError(f"Unexpected text frame: {data[:200]!r}")
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":
                raise StreamlitProtocolError("Got a ref_hash though no cached hash was sent.")
            if kind == "new_session":
                # Anything before our run's new_session belongs to an earlier run.
                messages.clear()
                arrivals.clear()
                run_id = msg.metadata.run.script_run_id
                self.page_script_hash = msg.new_session.page_script_hash
            messages.append(msg)
            arrivals.append(time.perf_counter() - t0)
            if kind == "navigation" and msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
            if kind == "script_finished":
                finished_id = msg.metadata.run.script_run_id
                if run_id is None or (finished_id and finished_id != run_id):
                    continue  # The end of an older run.
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                return RunResult(
                    elapsed=time.perf_counter() - t0,
                    messages=messages,
                    arrivals=arrivals,
                    status=msg.script_finished,
                    page_script_hash=self.page_script_hash,
                )

    def _widget_by_id(self, widget_id: str) -> Widget:
        if self.last is not None:
            for widget in self.last.widgets.values():
                if widget.id == widget_id:
                    return widget
        raise KeyError(f"Widget {widget_id!r} was not in the last run; pass a WidgetState.")

    def widget(self, label: str) -> Widget:
        """The widget labelled `label` in the last run."""
        if self.last is None:
            raise StreamlitProtocolError("No run yet: call connect() first.")
        return self.last.widget(label)

    async def trigger(self, component: Component, event: str, value: Any) -> RunResult:
        """Send a component's trigger, as the browser does, rerunning only its fragment.

        The trigger is one-shot: it is not kept in the widget states of later reruns.
        """
        back = BackMsg()
        state = self.client_state()
        state.widget_states.widgets.append(component.trigger(event, value))
        state.fragment_id = component.fragment_id
        back.rerun_script.CopyFrom(state)
        t0 = time.perf_counter()
        try:
            await self._ws.send(back.SerializeToString())
        except websockets.ConnectionClosed as exc:
            raise StreamlitProtocolError(f"The server closed the websocket: {exc}") from exc
        # A fragment's run has only the fragment's elements: ``last`` keeps the page's widgets.
        return await asyncio.wait_for(self._read_run(t0), self.timeout)

    async def set(self, values: dict[str, Any]) -> RunResult:
        """Rerun with widgets set by label, e.g. `await client.set({"Batch size": 8})`."""
        return await self.rerun({self.widget(label).id: v for label, v in values.items()})
