package imagery

// JPEG through libjpeg-turbo (cgo, Debian package libjpeg62-turbo-dev): a streaming
// decoder that hands out RGB rows a strip at a time, so a 16384×16384 image never sits
// in memory whole, and an encoder for tiles and renders. libjpeg-turbo's SIMD code
// decodes and encodes three to four times faster than image/jpeg, which is most of the
// cost of building a pyramid.

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
	int damaged;
} sm_err;

static void sm_error_exit(j_common_ptr c) {
	sm_err *e = (sm_err *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jb, 1);
}

// Warnings are kept quiet, except those that mean pixels were lost: a file that ends
// early, scan data cut short or out of step, or codes that are not in the tables. libjpeg would fill the missing parts with
// grey and carry on; an analyst must not be shown such an image as if it were whole.
static void sm_emit_message(j_common_ptr c, int level) {
	sm_err *e = (sm_err *)c->err;
	int code = c->err->msg_code;
	if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC ||
			code == JWRN_HUFF_BAD_CODE)) {
		e->damaged = 1;
		(*c->err->format_message)(c, e->msg);
	}
}

typedef struct {
	struct jpeg_decompress_struct d;
	sm_err err;
	FILE *f;
	int started;
} sm_dec;

static void sm_dec_free(sm_dec *s) {
	if (s == NULL) return;
	jpeg_destroy_decompress(&s->d);
	if (s->f) fclose(s->f);
	free(s);
}

// sm_dec_open reads the header and starts decompression to RGB.
static sm_dec *sm_dec_open(const char *path, int *w, int *h, char *msg) {
	sm_dec *s = calloc(1, sizeof(sm_dec));
	if (!s) { strcpy(msg, "out of memory"); return NULL; }
	s->f = fopen(path, "rb");
	if (!s->f) { strcpy(msg, "cannot open the file"); free(s); return NULL; }
	s->d.err = jpeg_std_error(&s->err.pub);
	s->err.pub.error_exit = sm_error_exit;
	s->err.pub.emit_message = sm_emit_message;
	if (setjmp(s->err.jb)) {
		strncpy(msg, s->err.msg, JMSG_LENGTH_MAX);
		sm_dec_free(s);
		return NULL;
	}
	jpeg_create_decompress(&s->d);
	jpeg_stdio_src(&s->d, s->f);
	jpeg_read_header(&s->d, TRUE);
	s->d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&s->d);
	s->started = 1;
	*w = s->d.output_width;
	*h = s->d.output_height;
	return s;
}

// sm_dec_crop limits the rows that follow to columns [*x, *x + *w), widened by libjpeg
// to whole blocks; it writes back the columns it will deliver.
static int sm_dec_crop(sm_dec *s, int *x, int *w, char *msg) {
	if (setjmp(s->err.jb)) { strncpy(msg, s->err.msg, JMSG_LENGTH_MAX); return -1; }
	JDIMENSION xo = *x, wo = *w;
	jpeg_crop_scanline(&s->d, &xo, &wo);
	*x = xo; *w = wo;
	return 0;
}

static int sm_dec_skip(sm_dec *s, int n, char *msg) {
	if (setjmp(s->err.jb)) { strncpy(msg, s->err.msg, JMSG_LENGTH_MAX); return -1; }
	if (n > 0) jpeg_skip_scanlines(&s->d, n);
	return 0;
}

// sm_dec_read decodes up to n rows into out (rows stride bytes apart) and returns how
// many it decoded, or -1 on error.
static int sm_dec_read(sm_dec *s, unsigned char *out, int stride, int n, char *msg) {
	if (setjmp(s->err.jb)) { strncpy(msg, s->err.msg, JMSG_LENGTH_MAX); return -1; }
	int done = 0;
	JSAMPROW rows[16];
	while (done < n && s->d.output_scanline < s->d.output_height) {
		int k = n - done;
		if (k > 16) k = 16;
		for (int i = 0; i < k; i++) rows[i] = out + (size_t)(done + i) * stride;
		done += jpeg_read_scanlines(&s->d, rows, k);
		if (s->err.damaged) { strncpy(msg, s->err.msg, JMSG_LENGTH_MAX); return -1; }
	}
	return done;
}

// sm_encode compresses w×h RGB pixels (rows stride bytes apart) into a malloc'ed buffer.
static int sm_encode(const unsigned char *rgb, int w, int h, int stride, int quality, int gray,
		unsigned char **out, unsigned long *outlen, char *msg) {
	struct jpeg_compress_struct c;
	sm_err err;
	memset(&err, 0, sizeof err);
	*out = NULL; *outlen = 0;
	c.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = sm_error_exit;
	err.pub.emit_message = sm_emit_message;
	if (setjmp(err.jb)) {
		strncpy(msg, err.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_compress(&c);
		if (*out) { free(*out); *out = NULL; }
		return -1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, out, outlen);
	c.image_width = w;
	c.image_height = h;
	c.input_components = gray ? 1 : 3;
	c.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	JSAMPROW row;
	while (c.next_scanline < c.image_height) {
		row = (JSAMPROW)(rgb + (size_t)c.next_scanline * stride);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return 0;
}

// sm_decode_mem decodes a whole JPEG held in memory into out as RGB (rows stride bytes
// apart, at most maxw × maxh pixels).
static int sm_decode_mem(const unsigned char *data, unsigned long len, unsigned char *out, int stride,
		int maxw, int maxh, int *w, int *h, char *msg) {
	struct jpeg_decompress_struct d;
	sm_err err;
	memset(&err, 0, sizeof err);
	d.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = sm_error_exit;
	err.pub.emit_message = sm_emit_message;
	if (setjmp(err.jb)) {
		strncpy(msg, err.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_decompress(&d);
		return -1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, len);
	jpeg_read_header(&d, TRUE);
	d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&d);
	*w = d.output_width;
	*h = d.output_height;
	if (*w > maxw || *h > maxh) {
		strcpy(msg, "the JPEG is larger than the buffer");
		jpeg_destroy_decompress(&d);
		return -1;
	}
	JSAMPROW row;
	while (d.output_scanline < d.output_height) {
		row = out + (size_t)d.output_scanline * stride;
		jpeg_read_scanlines(&d, &row, 1);
		if (err.damaged) {
			strncpy(msg, err.msg, JMSG_LENGTH_MAX);
			jpeg_destroy_decompress(&d);
			return -1;
		}
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return 0;
}

typedef struct {
	struct jpeg_compress_struct c;
	sm_err err;
	FILE *f;
} sm_enc;

static void sm_enc_free(sm_enc *s) {
	if (!s) return;
	jpeg_destroy_compress(&s->c);
	if (s->f) fclose(s->f);
	free(s);
}

// sm_enc_open starts a streaming RGB encoder writing to path.
static sm_enc *sm_enc_open(const char *path, int w, int h, int quality, char *msg) {
	sm_enc *s = calloc(1, sizeof(sm_enc));
	if (!s) { strcpy(msg, "out of memory"); return NULL; }
	s->f = fopen(path, "wb");
	if (!s->f) { strcpy(msg, "cannot create the file"); free(s); return NULL; }
	s->c.err = jpeg_std_error(&s->err.pub);
	s->err.pub.error_exit = sm_error_exit;
	s->err.pub.emit_message = sm_emit_message;
	if (setjmp(s->err.jb)) { strncpy(msg, s->err.msg, JMSG_LENGTH_MAX); sm_enc_free(s); return NULL; }
	jpeg_create_compress(&s->c);
	jpeg_stdio_dest(&s->c, s->f);
	s->c.image_width = w;
	s->c.image_height = h;
	s->c.input_components = 3;
	s->c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&s->c);
	jpeg_set_quality(&s->c, quality, TRUE);
	jpeg_start_compress(&s->c, TRUE);
	return s;
}

static int sm_enc_write(sm_enc *s, const unsigned char *rgb, int stride, int n, char *msg) {
	if (setjmp(s->err.jb)) { strncpy(msg, s->err.msg, JMSG_LENGTH_MAX); return -1; }
	for (int i = 0; i < n; i++) {
		JSAMPROW row = (JSAMPROW)(rgb + (size_t)i * stride);
		jpeg_write_scanlines(&s->c, &row, 1);
	}
	return 0;
}

static int sm_enc_finish(sm_enc *s, char *msg) {
	if (setjmp(s->err.jb)) { strncpy(msg, s->err.msg, JMSG_LENGTH_MAX); return -1; }
	jpeg_finish_compress(&s->c);
	if (fflush(s->f) != 0) { strcpy(msg, "cannot write the file"); return -1; }
	return 0;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

const msgLen = C.JMSG_LENGTH_MAX

// jpegDecoder streams the pixels of a JPEG file as RGB rows.
type jpegDecoder struct {
	c             *C.sm_dec
	width, height int
}

func cMessage(buf []C.char) string { return C.GoString(&buf[0]) }

// openJPEG reads the header of a JPEG file and prepares to decode it to RGB. Errors wrap
// ErrCorrupt.
func openJPEG(path string) (*jpegDecoder, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg [msgLen]C.char
	var w, h C.int
	c := C.sm_dec_open(cpath, &w, &h, &msg[0])
	if c == nil {
		return nil, fmt.Errorf("cannot read the JPEG: %s: %w", cMessage(msg[:]), ErrCorrupt)
	}
	return &jpegDecoder{c: c, width: int(w), height: int(h)}, nil
}

// crop limits the rows that follow to columns [x, x+w). libjpeg widens the span to whole
// blocks; crop returns the first column and the width it will deliver.
func (d *jpegDecoder) crop(x, w int) (int, int, error) {
	var msg [msgLen]C.char
	cx, cw := C.int(x), C.int(w)
	if C.sm_dec_crop(d.c, &cx, &cw, &msg[0]) != 0 {
		return 0, 0, fmt.Errorf("cannot crop the JPEG: %s: %w", cMessage(msg[:]), ErrCorrupt)
	}
	d.width = int(cw)
	return int(cx), int(cw), nil
}

// skip passes over n rows without delivering them.
func (d *jpegDecoder) skip(n int) error {
	var msg [msgLen]C.char
	if C.sm_dec_skip(d.c, C.int(n), &msg[0]) != 0 {
		return fmt.Errorf("cannot decode the JPEG: %s: %w", cMessage(msg[:]), ErrCorrupt)
	}
	return nil
}

// read decodes up to n rows into buf (rows stride bytes apart) and returns how many
// it delivered; 0 means the image is done. A file that ends early is ErrCorrupt.
func (d *jpegDecoder) read(buf []byte, stride, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	if need := (n-1)*stride + d.width*3; len(buf) < need {
		return 0, fmt.Errorf("readRows: buffer of %d bytes, need %d", len(buf), need)
	}
	var msg [msgLen]C.char
	got := C.sm_dec_read(d.c, (*C.uchar)(unsafe.Pointer(&buf[0])), C.int(stride), C.int(n), &msg[0])
	if got < 0 {
		return 0, fmt.Errorf("cannot decode the JPEG's pixels: %s: %w", cMessage(msg[:]), ErrCorrupt)
	}
	return int(got), nil
}

// Close releases the decoder.
func (d *jpegDecoder) Close() {
	if d.c != nil {
		C.sm_dec_free(d.c)
		d.c = nil
	}
}

// decodeJPEGInto decodes a JPEG held in memory into dst as RGB rows stride bytes apart,
// refusing one larger than maxw×maxh, and returns its size.
func decodeJPEGInto(data, dst []byte, stride, maxw, maxh int) (int, int, error) {
	if len(data) == 0 {
		return 0, 0, fmt.Errorf("empty JPEG: %w", ErrCorrupt)
	}
	if need := (maxh-1)*stride + maxw*3; len(dst) < need {
		return 0, 0, fmt.Errorf("decodeJPEGInto: buffer of %d bytes, need %d", len(dst), need)
	}
	var msg [msgLen]C.char
	var w, h C.int
	if C.sm_decode_mem((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&dst[0])),
		C.int(stride), C.int(maxw), C.int(maxh), &w, &h, &msg[0]) != 0 {
		return 0, 0, fmt.Errorf("cannot decode the JPEG: %s: %w", cMessage(msg[:]), ErrCorrupt)
	}
	return int(w), int(h), nil
}

// encodeJPEG compresses w×h pixels, RGB (3 bytes a pixel) or grey (1 byte), whose rows
// are stride bytes apart.
func encodeJPEG(pix []byte, w, h, stride, quality int, gray bool) ([]byte, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("encodeJPEG: empty image %d×%d", w, h)
	}
	bpp := 3
	if gray {
		bpp = 1
	}
	if need := (h-1)*stride + w*bpp; len(pix) < need {
		return nil, fmt.Errorf("encodeJPEG: %d bytes of pixels, need %d", len(pix), need)
	}
	var out *C.uchar
	var outlen C.ulong
	var msg [msgLen]C.char
	g := C.int(0)
	if gray {
		g = 1
	}
	if C.sm_encode((*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(h), C.int(stride), C.int(quality), g, &out, &outlen, &msg[0]) != 0 {
		return nil, fmt.Errorf("encode JPEG: %s", cMessage(msg[:]))
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(outlen)), nil
}

// JPEGWriter streams RGB rows into a JPEG file, for images too large to hold whole.
type JPEGWriter struct {
	c    *C.sm_enc
	left int // rows still to write
}

// NewJPEGWriter creates path and starts a w×h JPEG at the given quality.
func NewJPEGWriter(path string, w, h, quality int) (*JPEGWriter, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg [msgLen]C.char
	c := C.sm_enc_open(cpath, C.int(w), C.int(h), C.int(quality), &msg[0])
	if c == nil {
		return nil, fmt.Errorf("create %s: %s", path, cMessage(msg[:]))
	}
	return &JPEGWriter{c: c, left: h}, nil
}

// WriteRows appends n RGB rows, stride bytes apart.
func (jw *JPEGWriter) WriteRows(rgb []byte, stride, n int) error {
	if n > jw.left {
		return fmt.Errorf("write JPEG rows: %d rows given, %d left to write", n, jw.left)
	}
	jw.left -= n
	var msg [msgLen]C.char
	if C.sm_enc_write(jw.c, (*C.uchar)(unsafe.Pointer(&rgb[0])), C.int(stride), C.int(n), &msg[0]) != 0 {
		return fmt.Errorf("write JPEG rows: %s", cMessage(msg[:]))
	}
	return nil
}

// Close finishes the file. Every row must have been written.
func (jw *JPEGWriter) Close() error {
	var msg [msgLen]C.char
	err := error(nil)
	if jw.left > 0 {
		err = fmt.Errorf("finish JPEG: %d rows were never written", jw.left)
	} else if C.sm_enc_finish(jw.c, &msg[0]) != 0 {
		err = fmt.Errorf("finish JPEG: %s", cMessage(msg[:]))
	}
	C.sm_enc_free(jw.c)
	return err
}
