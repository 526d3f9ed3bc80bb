package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/qcgate/qcgate/qc"
)

// DICOM JSON keys (PS3.18 F.2) of the attributes the QC status reads and
// writes.
const (
	keySOPClassUID       = "00080016"
	keySOPInstanceUID    = "00080018"
	keyModality          = "00080060"
	keySeriesDescription = "0008103E"
	keySeriesInstanceUID = "0020000E"
)

// statusTarget says what the items of a DICOM JSON answer are.
type statusTarget int

const (
	// targetNone: the answer gets no QC status (study searches, frames).
	targetNone statusTarget = iota
	// targetSeries: series-level QIDO-RS results (PS3.18 10.6.3.3.2).
	targetSeries
	// targetInstances: instance-level QIDO-RS results or WADO-RS metadata
	// (PS3.18 10.4.1.2.4), one item per instance.
	targetInstances
)

// targetOf returns what a proxied route answers with.
func targetOf(route dicomwebRoute) statusTarget {
	switch {
	case route.Kind == kindQIDO && strings.HasSuffix(route.Template, "/series"):
		return targetSeries
	case route.Kind == kindQIDO && strings.HasSuffix(route.Template, "/instances"):
		return targetInstances
	case route.Kind == kindWADO && strings.HasSuffix(route.Template, "/metadata"):
		return targetInstances
	}
	return targetNone
}

// annotateOptions says what [annotateDICOMJSON] adds.
type annotateOptions struct {
	target statusTarget
	// format is the Series Description prefix format with {status}; ""
	// leaves Series Description unchanged.
	format string
	// private adds the QCGATE private block.
	private bool
	// base is the gateway's external base URL for report URLs.
	base *url.URL
}

// jsonAttr is a DICOM JSON attribute (PS3.18 F.2.2), read only as far as
// the QC status needs.
type jsonAttr struct {
	VR    string            `json:"vr"`
	Value []json.RawMessage `json:"Value,omitempty"`
}

// firstString returns the first value of the attribute key of item when it
// is a string, else "".
func firstString(item map[string]json.RawMessage, key string) string {
	raw, ok := item[key]
	if !ok {
		return ""
	}
	var a jsonAttr
	if json.Unmarshal(raw, &a) != nil || len(a.Value) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(a.Value[0], &s) != nil {
		return ""
	}
	return s
}

// stringAttr returns the DICOM JSON of an attribute with one string value.
func stringAttr(vr, value string) json.RawMessage {
	b, _ := json.Marshal(struct {
		VR    string   `json:"vr"`
		Value []string `json:"Value"`
	}{vr, []string{value}})
	return b
}

// isSEGItem reports whether a DICOM JSON item is a SEG series or instance.
func isSEGItem(item map[string]json.RawMessage) bool {
	return firstString(item, keyModality) == "SEG" ||
		qc.IsSegmentationClass(firstString(item, keySOPClassUID))
}

// annotateDICOMJSON adds the QC status to the SEG items of a DICOM JSON
// array: a prefix of Series Description, and the private block. It
// returns the body unchanged, and false, when it holds no SEG item or is
// not a DICOM JSON array.
func annotateDICOMJSON(ctx context.Context, body []byte, src statusSource,
	o annotateOptions) ([]byte, bool, error) {
	if o.target == targetNone || (o.format == "" && !o.private) {
		return body, false, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return body, false, nil
	}

	// The SEG series and instances of the answer, each looked up once.
	var series, instances []string
	seenSeries, seenInstance := map[string]bool{}, map[string]bool{}
	var segItems []map[string]json.RawMessage
	for _, item := range items {
		if !isSEGItem(item) {
			continue
		}
		segItems = append(segItems, item)
		if uid := firstString(item, keySeriesInstanceUID); isUID(uid) && !seenSeries[uid] &&
			len(series) < maxStatusLookups {
			seenSeries[uid] = true
			series = append(series, uid)
		}
		if o.target != targetInstances {
			continue
		}
		if uid := firstString(item, keySOPInstanceUID); isUID(uid) && !seenInstance[uid] &&
			len(instances) < maxStatusLookups {
			seenInstance[uid] = true
			instances = append(instances, uid)
		}
	}
	if len(segItems) == 0 {
		return body, false, nil
	}

	seriesSt, err := src.seriesStatus(ctx, o.base, series)
	if err != nil {
		return body, false, err
	}
	instSt, err := src.instanceStatus(ctx, o.base, instances)
	if err != nil {
		return body, false, err
	}
	// A SEG of the answer the gateway never checked (stored around it)
	// makes its whole series unchecked.
	for _, item := range segItems {
		ist, ok := instSt[firstString(item, keySOPInstanceUID)]
		series := firstString(item, keySeriesInstanceUID)
		sst, found := seriesSt[series]
		if ok && ist.Decision == "" && found &&
			statusRank(statusUnchecked) < statusRank(sst.Words) {
			sst.Words = statusUnchecked
			seriesSt[series] = sst
		}
	}
	for _, item := range segItems {
		sst, ok := seriesSt[firstString(item, keySeriesInstanceUID)]
		if !ok {
			continue
		}
		// Instance answers carry Series Description only when asked for.
		_, hasDesc := item[keySeriesDescription]
		if o.format != "" && (o.target == targetSeries || hasDesc) {
			prefixDescription(item, statusPrefix(o.format, sst.Words))
		}
		if !o.private {
			continue
		}
		if o.target == targetSeries {
			setPrivateBlock(item, sst)
		} else if ist, ok := instSt[firstString(item, keySOPInstanceUID)]; ok {
			setPrivateBlock(item, ist)
		}
	}

	out, err := json.Marshal(items)
	if err != nil {
		return body, false, fmt.Errorf("encoding annotated DICOM JSON: %w", err)
	}
	return out, true, nil
}

// prefixDescription puts prefix before the Series Description of item,
// adding the attribute when it is missing or empty.
func prefixDescription(item map[string]json.RawMessage, prefix string) {
	desc := firstString(item, keySeriesDescription)
	item[keySeriesDescription] = stringAttr("LO", strings.TrimRight(prefix+desc, " "))
}

// privateKey returns the DICOM JSON key of element (0071,xxee).
func privateKey(block, elem int) string {
	return fmt.Sprintf("%04X%02X%02X", privateGroup, block, elem)
}

// setPrivateBlock writes st into the QCGATE private block of item: the
// first block whose creator is ours or free (PS3.5 7.8.1). Our elements
// are always overwritten, so values an uploader put in a block named like
// ours never reach a viewer. An item with every block taken is left as it
// is.
func setPrivateBlock(item map[string]json.RawMessage, st qcStatus) {
	block := 0
	for b := 0x10; b <= 0xFF; b++ {
		key := fmt.Sprintf("%04X00%02X", privateGroup, b)
		if _, taken := item[key]; !taken || firstString(item, key) == PrivateCreator {
			block = b
			break
		}
	}
	if block == 0 {
		return
	}
	item[fmt.Sprintf("%04X00%02X", privateGroup, block)] = stringAttr("LO", PrivateCreator)

	decision := string(st.Decision)
	if decision == "" {
		decision = statusUnchecked
	}
	item[privateKey(block, privateDecision)] = stringAttr("LO", decision)
	if st.ReviewState != "" {
		item[privateKey(block, privateReviewState)] = stringAttr("LO", string(st.ReviewState))
	} else {
		delete(item, privateKey(block, privateReviewState))
	}
	if st.ReportURL != "" {
		item[privateKey(block, privateReportURL)] = stringAttr("UR", st.ReportURL)
	} else {
		delete(item, privateKey(block, privateReportURL))
	}
	item[privateKey(block, privateStatus)] = stringAttr("LO", st.Words)
}
