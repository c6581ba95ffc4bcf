#!/usr/bin/env python3
"""The machine-learning tools' own reading of satmark's dataset exports.

Each subcommand reads an export the way the named consumer does, step by step as its
source does it (the functions cited), using the same libraries (OpenCV, Shapely, lxml,
PIL, PyYAML from Debian, each imported where it is used), and prints what that consumer ends up holding as one JSON
object. The Go tests (server/export_datasets_oracle_test.go) compare that with the
annotations they made. Nothing here knows satmark's own conventions.

  coco FILE            pycocotools.coco.COCO: json.load, createIndex, annToMask
  yolo DIR detect|obb  ultralytics.data.utils: img2label_paths, verify_image_label,
                       check_det_dataset's names; utils.ops.xyxyxyxy2xywhr (OBB)
  dota DIR             DOTA_devkit dota_utils.parse_dota_poly, and cv2.minAreaRect as
                       mmrotate's poly2obb does
  cvat FILE            cvat/apps/dataset_manager/formats/cvat.py CvatExtractor._parse_meta
                       and _parse (iterparse over start/end events)
  voc DIR              detectron2.data.datasets.pascal_voc load_voc_instances
"""

import glob
import json
import math
import os
import sys
from collections import defaultdict

import numpy as np


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


# --- pycocotools ------------------------------------------------------------------

def coco(path):
    import cv2
    # COCO.__init__: json.load, the dataset must be a dict.
    with open(path, "r") as f:
        dataset = json.load(f)
    if type(dataset) != dict:
        fail("annotation file format %s not supported" % type(dataset))
    # COCO.createIndex.
    anns, cats, imgs = {}, {}, {}
    imgToAnns, catToImgs = defaultdict(list), defaultdict(list)
    for ann in dataset.get("annotations", []):
        imgToAnns[ann["image_id"]].append(ann)
        anns[ann["id"]] = ann
    for img in dataset.get("images", []):
        imgs[img["id"]] = img
    if "categories" in dataset:
        for cat in dataset["categories"]:
            cats[cat["id"]] = cat
        for ann in dataset["annotations"]:
            catToImgs[ann["category_id"]].append(ann["image_id"])

    out = {"images": len(imgs), "categories": [], "annotations": [], "index": {
        "annotations_in_file": len(dataset.get("annotations", [])), "anns": len(anns),
        "imgToAnns": sum(len(v) for v in imgToAnns.values()), "catToImgs": sum(len(v) for v in catToImgs.values())}}
    for c in dataset.get("categories", []):
        out["categories"].append({"id": c["id"], "name": c["name"], "supercategory": c["supercategory"]})
    for ann in anns.values():
        # annToRLE / annToMask: the image's height and width, each polygon of the
        # segmentation rasterised and the parts merged (a union), then decoded.
        t = imgs[ann["image_id"]]
        h, w = t["height"], t["width"]
        segm = ann["segmentation"]
        if type(segm) != list:
            fail("annotation %s: segmentation is not a polygon list" % ann["id"])
        mask = np.zeros((h, w), dtype=np.uint8)
        for poly in segm:
            if len(poly) < 6 or len(poly) % 2:
                fail("annotation %s: a polygon of %d numbers" % (ann["id"], len(poly)))
            pts = np.array(poly, dtype=np.float64).reshape(-1, 2)
            # Pixel (i, j) is the square [i, i+1) x [j, j+1): OpenCV's integer grid sits
            # at pixel centres, so move by half a pixel, in 1/256 px fixed point.
            fixed = np.round((pts - 0.5) * 256).astype(np.int32)
            part = np.zeros((h, w), dtype=np.uint8)
            cv2.fillPoly(part, [fixed], 1, lineType=cv2.LINE_8, shift=8)
            mask |= part
        ys, xs = np.nonzero(mask)
        mask_bbox = [float(xs.min()), float(ys.min()), float(xs.max() + 1 - xs.min()), float(ys.max() + 1 - ys.min())] if len(xs) else []
        perimeter = 0.0
        for poly in segm:
            pts = np.array(poly, dtype=np.float64).reshape(-1, 2)
            perimeter += float(np.sum(np.hypot(*(np.roll(pts, -1, axis=0) - pts).T)))
        out["annotations"].append({
            "id": ann["id"], "image_file": t["file_name"], "image_satmark_id": t.get("satmark_id"),
            "category": cats[ann["category_id"]]["name"], "supercategory": cats[ann["category_id"]]["supercategory"],
            "area": ann["area"], "mask_area": int(mask.sum()), "bbox": ann["bbox"], "mask_bbox": mask_bbox,
            "iscrowd": ann["iscrowd"], "perimeter": perimeter, "attributes": ann.get("attributes", {}),
        })
    print(json.dumps(out))


# --- Ultralytics ------------------------------------------------------------------

IMG_FORMATS = {"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic"}


def img2label_paths(img_paths):
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return [sb.join(x.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt" for x in img_paths]


def segments2boxes(segments):
    boxes = []
    for s in segments:
        x, y = s.T
        boxes.append([x.min(), y.min(), x.max(), y.max()])
    b = np.array(boxes)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)


def verify_image_label(im_file, lb_file, num_cls):
    from PIL import Image
    im = Image.open(im_file)
    im.verify()
    shape = im.size[1], im.size[0]
    assert (shape[0] > 9) & (shape[1] > 9), f"image size {shape} <10 pixels"
    assert im.format.lower() in IMG_FORMATS, f"invalid image format {im.format}"
    segments = []
    if not os.path.isfile(lb_file):
        return shape, np.zeros((0, 5), dtype=np.float32), segments, "missing"
    with open(lb_file, encoding="utf-8") as f:
        lb = [x.split() for x in f.read().strip().splitlines() if len(x)]
        if any(len(x) > 6 for x in lb):
            classes = np.array([x[0] for x in lb], dtype=np.float32)
            segments = [np.array(x[1:], dtype=np.float32).reshape(-1, 2) for x in lb]
            lb = np.concatenate((classes.reshape(-1, 1), segments2boxes(segments)), 1)
        lb = np.array(lb, dtype=np.float32)
    if len(lb):
        assert lb.shape[1] == 5, f"labels require 5 columns, {lb.shape[1]} columns detected"
        points = lb[:, 1:]
        assert points.max() <= 1.01, f"non-normalized or out of bounds coordinates {points[points > 1.01]}"
        assert lb.min() >= -0.01, f"negative class labels or coordinate {lb[lb < -0.01]}"
        assert lb[:, 0].max() < num_cls, f"Label class {int(lb[:, 0].max())} exceeds dataset class count {num_cls}"
        _, i = np.unique(lb, axis=0, return_index=True)
        assert len(i) == len(lb), f"{len(lb) - len(i)} duplicate labels removed"
    return shape, lb, segments, "found" if len(lb) else "empty"


def xyxyxyxy2xywhr(corners):
    import cv2
    # ultralytics.utils.ops.xyxyxyxy2xywhr with regularize_rboxes: minAreaRect, the long
    # side as w, the angle in [0, pi).
    (cx, cy), (w, h), angle = cv2.minAreaRect(corners.astype(np.float32))
    t = angle / 180 * math.pi
    if w < h:
        w, h, t = h, w, t + math.pi / 2
    return cx, cy, w, h, t % math.pi


def yolo(root, task):
    import yaml
    with open(os.path.join(root, "data.yaml"), encoding="utf-8") as f:
        data = yaml.safe_load(f)
    names = data["names"]
    if isinstance(names, list):
        names = dict(enumerate(names))
    out = {"names": {str(k): v for k, v in names.items()}, "train": data["train"], "val": data["val"], "images": []}
    files = sorted(glob.glob(os.path.join(root, data["train"], "*.*")))
    files = [x for x in files if x.rsplit(".", 1)[-1].lower() in IMG_FORMATS]
    for im_file, lb_file in zip(files, img2label_paths(files)):
        try:
            shape, lb, segments, state = verify_image_label(im_file, lb_file, len(names))
        except AssertionError as e:
            fail(f"{im_file}: ignoring corrupt image/label: {e}")
        h, w = shape
        labels = []
        for k, row in enumerate(lb):
            label = {"class": int(row[0]), "name": names[int(row[0])], "xywh_px": [float(row[1]) * w, float(row[2]) * h, float(row[3]) * w, float(row[4]) * h]}
            if task == "obb":
                if not segments or len(segments[k]) != 4:
                    fail(f"{lb_file}: line {k + 1} is not four corners")
                pts = segments[k].astype(np.float64) * np.array([w, h])  # denormalised
                cx, cy, rw, rh, t = xyxyxyxy2xywhr(pts)
                label["xywhr"] = [cx, cy, rw, rh, math.degrees(t)]
            labels.append(label)
        out["images"].append({"file": os.path.basename(im_file), "height": h, "width": w, "label_state": state, "labels": labels})
    print(json.dumps(out))


# --- DOTA -------------------------------------------------------------------------

def parse_dota_poly(filename):
    import shapely.geometry as shgeo
    objects = []
    with open(filename, "r") as f:
        while True:
            line = f.readline()
            if not line:
                break
            splitlines = line.strip().split(" ")
            object_struct = {}
            if len(splitlines) < 9:
                continue
            object_struct["name"] = splitlines[8]
            object_struct["difficult"] = "0" if len(splitlines) == 9 else splitlines[9]
            object_struct["poly"] = [(float(splitlines[0]), float(splitlines[1])), (float(splitlines[2]), float(splitlines[3])),
                                     (float(splitlines[4]), float(splitlines[5])), (float(splitlines[6]), float(splitlines[7]))]
            gtpoly = shgeo.Polygon(object_struct["poly"])
            object_struct["area"] = gtpoly.area
            object_struct["valid"] = bool(gtpoly.is_valid)
            objects.append(object_struct)
    return objects


def dota(root):
    import cv2
    out = {"files": []}
    for path in sorted(glob.glob(os.path.join(root, "labelTxt", "*.txt"))):
        objs = []
        for o in parse_dota_poly(path):
            (cx, cy), (w, h), angle = cv2.minAreaRect(np.array(o["poly"], dtype=np.float32))
            o["min_area_rect"] = [cx, cy, w, h, angle]
            objs.append(o)
        with open(path) as f:
            head = [l.strip() for l in f.readlines()[:2]]
        out["files"].append({"file": os.path.basename(path), "head": head, "objects": objs})
    print(json.dumps(out))


# --- CVAT -------------------------------------------------------------------------

def cvat(path):
    from lxml import etree
    context = iter(etree.iterparse(path, events=("start", "end")))

    # _parse_meta: a recursive-descent walk of <meta> to the first image.
    ev, el = next(context)
    if not (ev == "start" and el.tag == "annotations"):
        fail("Unexpected token")
    labels, label, states = {}, None, ["annotations"]
    attribute_types = {}

    def accepted(expected, tag, next_state=None):
        if states[-1] == expected and el is not None and el.tag == tag:
            states.append(next_state or tag)
            return True
        return False

    def consumed(expected, tag):
        if states[-1] == expected and el is not None and el.tag == tag:
            states.pop()
            return True
        return False

    for ev, el in context:
        if ev == "start":
            if accepted("annotations", "meta") or accepted("meta", "task") or accepted("meta", "project") \
                    or accepted("project", "tasks") or accepted("tasks", "task") or accepted("task", "id", "task_id") \
                    or accepted("task", "segment") or accepted("task", "mode") or accepted("task", "original_size") \
                    or accepted("original_size", "height", "frame_height") or accepted("original_size", "width", "frame_width") \
                    or accepted("task", "labels") or accepted("project", "labels"):
                pass
            elif accepted("labels", "label"):
                label = {"name": None, "attributes": []}
            elif accepted("label", "name", "label_name") or accepted("label", "attributes") \
                    or accepted("attributes", "attribute") or accepted("attribute", "name", "attr_name") \
                    or accepted("attribute", "input_type", "attr_type"):
                pass
            elif accepted("annotations", "image") or accepted("annotations", "track") or accepted("annotations", "tag"):
                break
        elif ev == "end":
            if consumed("meta", "meta"):
                break
            elif consumed("label_name", "name"):
                label["name"] = el.text
            elif consumed("attr_name", "name"):
                label["attributes"].append({"name": el.text})
            elif consumed("attr_type", "input_type"):
                label["attributes"][-1]["input_type"] = el.text
            elif consumed("label", "label"):
                labels[label["name"]] = label["attributes"]
                label = None
            else:
                for s, t in (("project", "project"), ("tasks", "tasks"), ("task", "task"), ("task_id", "id"), ("segment", "segment"),
                             ("mode", "mode"), ("original_size", "original_size"), ("frame_height", "height"), ("frame_width", "width"),
                             ("attribute", "attribute"), ("attributes", "attributes"), ("labels", "labels")):
                    if consumed(s, t):
                        break
    if not (len(states) == 1 and states[0] == "annotations"):
        fail("Expected 'meta' section in the annotation file, path: %s" % states)
    for name, attrs in labels.items():
        for a in attrs:
            attribute_types[a["name"]] = a["input_type"]

    # _parse: the images and their shapes.
    images, shape, attributes, image = [], None, None, None
    for ev, el in context:
        if ev == "start":
            if el.tag == "image":
                image = {"name": el.attrib.get("name"), "frame": el.attrib["id"], "width": el.attrib.get("width"),
                         "height": el.attrib.get("height"), "shapes": []}
            elif el.tag in ("box", "polygon", "polyline", "points", "skeleton") and image:
                attributes = {}
                shape = {"type": "rectangle" if el.tag == "box" else el.tag, "attributes": attributes}
        elif ev == "end":
            if el.tag == "attribute" and attributes is not None:
                value = el.text or ""
                t = attribute_types.get(el.attrib["name"])
                if el.text in ["true", "false"]:
                    value = value == "true"
                elif t is not None and t != "text":
                    try:
                        value = float(value)
                    except ValueError:
                        pass
                attributes[el.attrib["name"]] = value
            elif el.tag in ("box", "polygon", "polyline", "points"):
                shape["label"] = el.attrib.get("label")
                shape["type"] = el.tag
                shape["occluded"] = el.attrib.get("occluded") == "1"
                shape["z_order"] = int(el.attrib.get("z_order", 0))
                shape["rotation"] = float(el.attrib.get("rotation", 0))
                if el.tag == "box":
                    shape["points"] = list(map(float, [el.attrib["xtl"], el.attrib["ytl"], el.attrib["xbr"], el.attrib["ybr"]]))
                else:
                    shape["points"] = []
                    for pair in el.attrib["points"].split(";"):
                        shape["points"].extend(map(float, pair.split(",")))
                shape["label_declared"] = shape["label"] in labels
                declared = {a["name"] for a in labels.get(shape["label"], [])}
                shape["undeclared_attributes"] = sorted(set(attributes) - declared)
                image["shapes"].append(shape)
                shape, attributes = None, None
            elif el.tag == "image":
                images.append(image)
                image = None
            el.clear()
    print(json.dumps({"labels": {k: [a["name"] for a in v] for k, v in labels.items()}, "images": images}))


# --- Pascal VOC (Detectron2) ------------------------------------------------------

def voc(root):
    from lxml import etree
    out = {"images": []}
    with open(os.path.join(root, "ImageSets", "Main", "default.txt")) as f:
        fileids = np.loadtxt(f, dtype=str, ndmin=1)
    for fileid in fileids:
        tree = etree.parse(os.path.join(root, "Annotations", fileid + ".xml"))
        r = {"file_name": os.path.join(root, "JPEGImages", tree.findtext("./filename")),
             "height": int(tree.findall("./size/height")[0].text), "width": int(tree.findall("./size/width")[0].text), "objects": []}
        for obj in tree.findall("object"):
            cls = obj.find("name").text
            bbox = obj.find("bndbox")
            bbox = [float(bbox.find(x).text) for x in ["xmin", "ymin", "xmax", "ymax"]]
            # "Original annotations are integers in the range [1, W or H]": to
            # continuous pixels.
            bbox[0] -= 1.0
            bbox[1] -= 1.0
            r["objects"].append({"category": cls, "bbox": bbox, "difficult": int(obj.findtext("difficult")),
                                 "satmark_id": obj.findtext("satmark/id"), "points": obj.findtext("satmark/points"),
                                 "rotation": obj.findtext("satmark/rotation")})
        out["images"].append(r)
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"coco": coco, "yolo": yolo, "dota": dota, "cvat": cvat, "voc": voc}[cmd](*args)
