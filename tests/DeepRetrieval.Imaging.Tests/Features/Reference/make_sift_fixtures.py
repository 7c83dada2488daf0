#!/usr/bin/python3
"""Writes the SIFT test fixtures: two real photos (scikit-image's chelsea.png and coffee.png, public domain) downscaled
to 320 pixels wide in grey, one synthetic homography of each, and what OpenCV 4.6's cv2.SIFT_create() finds on all four:
keypoints (x, y, size, angle, response, octave) and uint8 descriptors; plus OpenCV's descriptors for a dense grid of
keypoints and its keypoints with nfeatures=100. Run with Debian's /usr/bin/python3 (python3-opencv 4.6, python3-skimage):

    /usr/bin/python3 tests/DeepRetrieval.Imaging.Tests/Features/Reference/make_sift_fixtures.py

Images are gzip-compressed binary PGM; arrays are gzip-compressed float32 .npy; homographies and metadata go to
sift_fixtures.json.
"""
import gzip, io, json, os
import cv2
import numpy as np

cv2.setNumThreads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'Fixtures')
SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data'


def save_pgm(name, image):
    h, w = image.shape
    data = b'P5\n%d %d\n255\n' % (w, h) + image.astype(np.uint8).tobytes()
    with gzip.GzipFile(os.path.join(OUT, name + '.pgm.gz'), 'wb', mtime=0) as f:
        f.write(data)


def save_npy(name, array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32))
    with gzip.GzipFile(os.path.join(OUT, name + '.npy.gz'), 'wb', mtime=0) as f:
        f.write(buffer.getvalue())


def keypoint_rows(keypoints):
    # The octave field is packed in 24 bits; float32 holds integers up to 2^24 exactly.
    return np.array([[k.pt[0], k.pt[1], k.size, k.angle, k.response, k.octave] for k in keypoints], dtype=np.float64)


def describe(name, image):
    sift = cv2.SIFT_create()
    keypoints, descriptors = sift.detectAndCompute(image, None)
    save_pgm(name, image)
    save_npy(name + '.keypoints', keypoint_rows(keypoints))
    save_npy(name + '.descriptors', descriptors)
    return len(keypoints)


def homography(w, h, angle_degrees, scale, perspective, shift):
    c, s = np.cos(np.radians(angle_degrees)), np.sin(np.radians(angle_degrees))
    to_centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]])
    rotate = np.array([[scale * c, -scale * s, 0], [scale * s, scale * c, 0], [perspective[0], perspective[1], 1]])
    back = np.array([[1, 0, w / 2 + shift[0]], [0, 1, h / 2 + shift[1]], [0, 0, 1]])
    H = back @ rotate @ to_centre
    return H / H[2, 2]


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {'opencv': cv2.__version__, 'images': {}}
    warps = {'chelsea': (12.0, 0.85, (4e-4, -2e-4), (6, -4)), 'coffee': (-25.0, 1.15, (-3e-4, 3e-4), (-5, 3))}
    for name in ('chelsea', 'coffee'):
        colour = cv2.imread(os.path.join(SKIMAGE, name + '.png'), cv2.IMREAD_GRAYSCALE)
        width = 320
        height = int(round(colour.shape[0] * width / colour.shape[1]))
        image = cv2.resize(colour, (width, height), interpolation=cv2.INTER_AREA)
        count = describe(name, image)
        H = homography(width, height, *warps[name])
        warped = cv2.warpPerspective(image, H, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        warped_count = describe(name + '_warp', warped)
        meta['images'][name] = {'width': width, 'height': height, 'keypoints': count, 'warp_keypoints': warped_count,
                                'homography': H.reshape(-1).tolist(), 'pixel_sum': int(image.astype(np.int64).sum()),
                                'warp_pixel_sum': int(warped.astype(np.int64).sum())}

    # nfeatures = 100 on chelsea: the keypoints kept by response.
    chelsea = cv2.imread(os.path.join(SKIMAGE, 'chelsea.png'), cv2.IMREAD_GRAYSCALE)
    chelsea = cv2.resize(chelsea, (320, meta['images']['chelsea']['height']), interpolation=cv2.INTER_AREA)
    best = cv2.SIFT_create(100).detect(chelsea, None)
    save_npy('chelsea.best100', keypoint_rows(best))

    # Provided keypoints (cv2.SIFT.compute): an upright grid every 48 pixels, size 12 described on octave 1 layer 2
    # and size 20 on octave 2 layer 0. No keypoint names octave -1, so OpenCV builds the pyramid without up-sampling.
    grid = []
    for y in range(12, chelsea.shape[0], 48):
        for x in range(12, chelsea.shape[1], 48):
            for size, octave, layer in ((12.0, 1, 2), (20.0, 2, 0)):
                grid.append(cv2.KeyPoint(float(x), float(y), size, 0.0, 0.0, (octave & 255) | (layer << 8)))
    grid, descriptors = cv2.SIFT_create().compute(chelsea, grid)
    save_npy('chelsea.grid.keypoints', keypoint_rows(grid))
    save_npy('chelsea.grid.descriptors', descriptors)

    with open(os.path.join(OUT, 'sift_fixtures.json'), 'w') as f:
        json.dump(meta, f, indent=1)


if __name__ == '__main__':
    main()
