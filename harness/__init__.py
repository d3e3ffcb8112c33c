"""What the tests and the benchmarks both drive the app with, in one place that both import
(neither imports the other): ``server`` starts ``streamlit run`` and ``deploy/serve.sh``,
``streamlit_client`` speaks Streamlit's websocket protocol as a browser does, ``browser``
drives headless Chromium through Playwright."""
