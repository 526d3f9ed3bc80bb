//go:build cgo

package qc

/*
#cgo pkg-config: libopenjp2
#include <stdlib.h>
#include <string.h>
#include <openjpeg.h>

// qc_mem is a codestream held in memory, read through an OpenJPEG stream.
typedef struct {
	const OPJ_BYTE *data;
	OPJ_SIZE_T size;
	OPJ_SIZE_T pos;
} qc_mem;

static OPJ_SIZE_T qc_mem_read(void *buf, OPJ_SIZE_T n, void *user) {
	qc_mem *m = (qc_mem *)user;
	if (m->pos >= m->size) {
		return (OPJ_SIZE_T)-1;
	}
	if (n > m->size - m->pos) {
		n = m->size - m->pos;
	}
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return n;
}

static OPJ_OFF_T qc_mem_skip(OPJ_OFF_T n, void *user) {
	qc_mem *m = (qc_mem *)user;
	if (n < 0) {
		if ((OPJ_SIZE_T)(-n) > m->pos) {
			n = -(OPJ_OFF_T)m->pos;
		}
	} else if ((OPJ_SIZE_T)n > m->size - m->pos) {
		n = (OPJ_OFF_T)(m->size - m->pos);
	}
	m->pos += n;
	return n;
}

static OPJ_BOOL qc_mem_seek(OPJ_OFF_T n, void *user) {
	qc_mem *m = (qc_mem *)user;
	if (n < 0 || (OPJ_SIZE_T)n > m->size) {
		return OPJ_FALSE;
	}
	m->pos = (OPJ_SIZE_T)n;
	return OPJ_TRUE;
}

// qc_quiet drops OpenJPEG's messages: the library does not print.
static void qc_quiet(const char *msg, void *client) {
	(void)msg;
	(void)client;
}

// qc_j2k_decode decodes a one-component codestream (or JP2 file when jp2
// is set) of exactly w x h pixels. It returns 0 and the image in *out, which
// the caller frees with opj_image_destroy, or a nonzero step number.
static int qc_j2k_decode(const unsigned char *data, size_t size, int jp2,
		OPJ_UINT32 w, OPJ_UINT32 h, opj_image_t **out) {
	opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	if (codec == NULL) {
		return 1;
	}
	opj_set_info_handler(codec, qc_quiet, NULL);
	opj_set_warning_handler(codec, qc_quiet, NULL);
	opj_set_error_handler(codec, qc_quiet, NULL);
	opj_dparameters_t params;
	opj_set_default_decoder_parameters(&params);
	if (!opj_setup_decoder(codec, &params)) {
		opj_destroy_codec(codec);
		return 2;
	}

	qc_mem m = {data, size, 0};
	OPJ_SIZE_T chunk = size < 4096 ? 4096 : (size > OPJ_J2K_STREAM_CHUNK_SIZE ?
		OPJ_J2K_STREAM_CHUNK_SIZE : size);
	opj_stream_t *s = opj_stream_create(chunk, OPJ_TRUE);
	if (s == NULL) {
		opj_destroy_codec(codec);
		return 1;
	}
	opj_stream_set_user_data(s, &m, NULL);
	opj_stream_set_user_data_length(s, size);
	opj_stream_set_read_function(s, qc_mem_read);
	opj_stream_set_skip_function(s, qc_mem_skip);
	opj_stream_set_seek_function(s, qc_mem_seek);

	opj_image_t *img = NULL;
	int rc = 0;
	if (!opj_read_header(s, codec, &img)) {
		rc = 3;
	} else if (img->numcomps != 1 || img->x1 - img->x0 != w || img->y1 - img->y0 != h) {
		rc = 4;
	} else if (!opj_decode(codec, s, img) || !opj_end_decompress(codec, s)) {
		rc = 5;
	} else if (img->comps[0].data == NULL || img->comps[0].w != w || img->comps[0].h != h) {
		rc = 4;
	}
	opj_stream_destroy(s);
	opj_destroy_codec(codec);
	if (rc != 0) {
		if (img != NULL) {
			opj_image_destroy(img);
		}
		return rc;
	}
	*out = img;
	return 0;
}
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// jpeg2000Available reports whether this build decodes JPEG 2000. It does
// through OpenJPEG (libopenjp2), the reference decoder of ISO 15444 that
// Debian and most DICOM toolkits ship and keep patched.
const jpeg2000Available = true

// maxJPEG2000Pixels bounds the frame size qc lets OpenJPEG decode, since a
// codestream of a few bytes can claim a huge image.
const maxJPEG2000Pixels = 1 << 26

// decodeJPEG2000 decodes one JPEG 2000 frame (PS3.5 A.4.4) into *buf as the
// frame is stored natively, byte aligned: 1-bit values packed LSB first,
// 8-bit values one byte each, 16-bit values little endian.
func decodeJPEG2000(src []byte, l frameLayout, buf *[]byte) error {
	n := l.rows * l.cols
	if n > maxJPEG2000Pixels {
		return fmt.Errorf("%w: JPEG 2000 frame of %dx%d pixels exceeds the %d pixels qc "+
			"decodes", ErrPixelData, l.rows, l.cols, maxJPEG2000Pixels)
	}
	if len(src) == 0 {
		return fmt.Errorf("%w: empty JPEG 2000 frame", ErrPixelData)
	}
	jp2 := C.int(0)
	if len(src) >= 12 && string(src[4:8]) == "jP  " {
		jp2 = 1
	}
	var img *C.opj_image_t
	rc := C.qc_j2k_decode((*C.uchar)(unsafe.Pointer(&src[0])), C.size_t(len(src)), jp2,
		C.OPJ_UINT32(l.cols), C.OPJ_UINT32(l.rows), &img)
	switch rc {
	case 0:
	case 4:
		return fmt.Errorf("%w: JPEG 2000 frame must hold one component of %dx%d pixels",
			ErrPixelData, l.cols, l.rows)
	default:
		return fmt.Errorf("%w: OpenJPEG cannot decode the frame (step %d)", ErrPixelData, rc)
	}
	defer C.opj_image_destroy(img)

	comp := (*C.opj_image_comp_t)(unsafe.Pointer(img.comps))
	vals := unsafe.Slice((*int32)(unsafe.Pointer(comp.data)), n)
	dst := growBuffer(buf, l.frameBytes())
	switch l.bits {
	case 1:
		clear(dst)
		for p, v := range vals {
			if v != 0 {
				dst[p>>3] |= 1 << uint(p&7)
			}
		}
	case 8:
		for p, v := range vals {
			dst[p] = byte(v)
		}
	default:
		for p, v := range vals {
			binary.LittleEndian.PutUint16(dst[2*p:], uint16(v))
		}
	}
	return nil
}
