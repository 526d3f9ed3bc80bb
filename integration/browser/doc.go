// Package browser holds end-to-end tests that drive Debian's Chromium
// (headless, through chromedp) against the gateway in front of a real
// Orthanc: the OHIF viewer served by the gateway, the QC status in its
// series list (before and after a SEG's review approves it), the QC
// dashboard with its sign-in, pictures and review form, and the viewer's
// error handler. Authentication is on: the browser sends the user's token
// with every request, as a sign-in proxy in front of the gateway would.
//
// The tests need the chromium binary (apt-get install chromium; another
// one can be named with QCGATE_CHROMIUM) and OHIF's dist/ folder
// (scripts/fetch-ohif.sh puts it in third_party/ohif/dist; another one can
// be named with QCGATE_OHIF_DIR). Without them they skip and say why,
// except under CI (the CI variable is set), where they fail. A failing
// test saves a screenshot of the page in QCGATE_SCREENSHOT_DIR, or in a
// new temporary folder whose path it logs.
package browser
