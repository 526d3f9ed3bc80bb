package qc

// frameCodec names how the frames of a transfer syntax are encoded.
type frameCodec int

const (
	// codecUnsupported marks a syntax whose frames qc cannot decode.
	codecUnsupported frameCodec = iota
	// codecNative is uncompressed data, frames concatenated (PS3.5 8.1.1).
	codecNative
	// codecRaw is Encapsulated Uncompressed: one raw frame per fragment
	// (PS3.5 A.4.11).
	codecRaw
	// codecRLE is RLE Lossless (PS3.5 Annex G).
	codecRLE
	// codecDeflate is Deflated Image Frame Compression: raw DEFLATE per frame
	// (PS3.5 A.4.13).
	codecDeflate
	// codecJPEG2000 is a JPEG 2000 codestream per frame (PS3.5 A.4.4).
	codecJPEG2000
)

// transferSyntax says how a transfer syntax encodes the data set and its
// pixel data (PS3.5 10 and Annex A).
type transferSyntax struct {
	UID  string
	Name string
	// Known is false for a UID qc has no entry for; such a syntax is read
	// as explicit VR little endian and its pixel data is not decoded.
	Known        bool
	Implicit     bool
	BigEndian    bool
	Deflated     bool
	Encapsulated bool
	Codec        frameCodec
}

// Transfer Syntax UIDs that the decoder handles specially.
const (
	uidImplicitVRLittleEndian   = "1.2.840.10008.1.2"
	uidExplicitVRLittleEndian   = "1.2.840.10008.1.2.1"
	uidDeflatedExplicitVRLittle = "1.2.840.10008.1.2.1.99"
	uidExplicitVRBigEndian      = "1.2.840.10008.1.2.2"
	uidEncapsulatedUncompressed = "1.2.840.10008.1.2.1.98"
	uidRLELossless              = "1.2.840.10008.1.2.5"
	uidDeflatedImageFrame       = "1.2.840.10008.1.2.8.1"
	uidJPEG2000Lossless         = "1.2.840.10008.1.2.4.90"
	uidJPEG2000                 = "1.2.840.10008.1.2.4.91"
)

// transferSyntaxes lists the syntaxes of PS3.6 Table A-1 that a SEG may use.
// Encapsulated syntaxes without a codec are known but not decoded.
var transferSyntaxes = map[string]transferSyntax{
	uidImplicitVRLittleEndian: {
		Name: "Implicit VR Little Endian", Implicit: true, Codec: codecNative,
	},
	uidExplicitVRLittleEndian: {Name: "Explicit VR Little Endian", Codec: codecNative},
	uidDeflatedExplicitVRLittle: {
		Name: "Deflated Explicit VR Little Endian", Deflated: true, Codec: codecNative,
	},
	// Big endian is retired (PS3.5 A.3); its data set is read, its pixel
	// data is not decoded.
	uidExplicitVRBigEndian: {Name: "Explicit VR Big Endian", BigEndian: true},
	uidEncapsulatedUncompressed: {
		Name:         "Encapsulated Uncompressed Explicit VR Little Endian",
		Encapsulated: true, Codec: codecRaw,
	},
	uidRLELossless: {Name: "RLE Lossless", Encapsulated: true, Codec: codecRLE},
	uidDeflatedImageFrame: {
		Name: "Deflated Image Frame Compression", Encapsulated: true, Codec: codecDeflate,
	},
	uidJPEG2000Lossless: {
		Name: "JPEG 2000 Image Compression (Lossless Only)", Encapsulated: true,
		Codec: codecJPEG2000,
	},
	uidJPEG2000: {
		Name: "JPEG 2000 Image Compression", Encapsulated: true, Codec: codecJPEG2000,
	},
	"1.2.840.10008.1.2.4.50":  {Name: "JPEG Baseline (Process 1)", Encapsulated: true},
	"1.2.840.10008.1.2.4.51":  {Name: "JPEG Extended (Process 2 & 4)", Encapsulated: true},
	"1.2.840.10008.1.2.4.57":  {Name: "JPEG Lossless, Non-Hierarchical", Encapsulated: true},
	"1.2.840.10008.1.2.4.70":  {Name: "JPEG Lossless, First-Order Prediction", Encapsulated: true},
	"1.2.840.10008.1.2.4.80":  {Name: "JPEG-LS Lossless", Encapsulated: true},
	"1.2.840.10008.1.2.4.81":  {Name: "JPEG-LS Near-Lossless", Encapsulated: true},
	"1.2.840.10008.1.2.4.92":  {Name: "JPEG 2000 Part 2 (Lossless Only)", Encapsulated: true},
	"1.2.840.10008.1.2.4.93":  {Name: "JPEG 2000 Part 2", Encapsulated: true},
	"1.2.840.10008.1.2.4.201": {Name: "HTJ2K (Lossless Only)", Encapsulated: true},
	"1.2.840.10008.1.2.4.202": {
		Name: "HTJ2K with RPCL Options (Lossless Only)", Encapsulated: true,
	},
	"1.2.840.10008.1.2.4.203": {Name: "HTJ2K", Encapsulated: true},
}

// lookupTransferSyntax returns what qc knows of uid. An unknown UID is read
// as explicit VR little endian (PS3.5 10.1 makes that the encoding of every
// syntax other than the implicit and big endian ones).
func lookupTransferSyntax(uid string) transferSyntax {
	ts, ok := transferSyntaxes[uid]
	if !ok {
		return transferSyntax{UID: uid, Name: "unknown"}
	}
	ts.UID = uid
	ts.Known = true
	if ts.Codec == codecJPEG2000 && !jpeg2000Available {
		ts.Codec = codecUnsupported
	}
	return ts
}

// decodable reports whether qc can decode the frames of ts.
func (ts transferSyntax) decodable() bool { return ts.Known && ts.Codec != codecUnsupported }
