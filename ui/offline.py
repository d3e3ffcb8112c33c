"""Nothing leaves a classroom server: no lookup of this machine's public address.

Streamlit accepts a websocket when its Origin is localhost, ``browser.serverAddress``, this
machine's internal address or, last, its public address, which it asks checkip.amazonaws.com
for (two requests of up to 1 s, on the server's event loop) every time an origin was refused
and no lookup has succeeded yet (``streamlit.web.server.server_util``,
``is_url_from_allowed_origins``). So each cross-site websocket a hostile page opened made the
server call an outside host, and in an offline classroom held every session up for up to 2 s.
No option turns the lookup off (streamlit/streamlit#7721): ``pin_public_address`` gives it the
configured address, which is what a classroom server answers to anyway.
"""

import streamlit as st
from streamlit import net_util


def pin_public_address() -> None:
    """Take ``browser.serverAddress`` as this machine's public address, so Streamlit never
    looks it up. Cheap: called by ``app.py`` on every run (the first run of the process pins
    it; before that, ``deploy/serve.sh``'s proxy refuses cross-site websockets itself)."""
    net_util._external_ip = st.get_option("browser.serverAddress")
