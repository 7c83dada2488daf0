#!/usr/bin/python3
"""OpenCV side of the classical benchmark (run by DeepRetrieval.ClassicalBench, or by hand).

  prepare OUT   Builds the pair-matching set from real photos installed by Debian packages (mate-backgrounds,
                plasma-workspace-wallpapers, python3-skimage): database photos and distractors in grey, downscaled so the
                long side is 640 pixels, and four synthetic views of every database photo with known homographies:
                rotation + zoom out; perspective; zoom out to half + rotation + contrast change + JPEG quality 60; zoom out
                to a third + perspective + rotation + blur + noise. Writes binary PGM images, manifest.json (homographies
                map a database photo onto its query) and OpenCV 4.6 SIFT keypoints and descriptors of every image as
                float32 .npy files.
  serve OUT     Times cv2.SIFT_create().detectAndCompute on one thread (cv2.setNumThreads(1)) for the images named on each
                input line, answering with one JSON line per request: per-image wall and thread CPU milliseconds and
                keypoint counts. The C# benchmark interleaves these requests with its own rounds.
"""
import glob, json, os, sys, time
import cv2
import numpy as np

NATURE = '/usr/share/backgrounds/mate/nature'
WALLPAPERS = '/usr/share/wallpapers'
SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data'
# Photos. Storm, DarkestHour and Grey are photos too, but dark or nearly featureless (under 30 SIFT keypoints at 640 px):
# they serve as distractors rather than as queries no local-feature method can answer.
DATABASE = [f'{NATURE}/{n}.jpg' for n in ('Aqua', 'Blinds', 'Dune', 'FreshFlower', 'Garden', 'GreenMeadow', 'LadyBird', 'RainDrops',
                                          'TwoWings', 'Wood', 'YellowFlower')] + [
    f'{WALLPAPERS}/{n}/contents/images/1920x1080.jpg'
    for n in ('Autumn', 'BytheWater', 'ColdRipple', 'EveningGlow', 'FallenLeaf', 'Kite', 'OneStandsOut', 'Path', 'summer_1am')] + [
    f'{WALLPAPERS}/ColorfulCups/contents/images/2560x1600.jpg'] + [
    f'{SKIMAGE}/{n}' for n in ('astronaut.png', 'rocket.jpg', 'motorcycle_left.png')]
DISTRACTORS = [f'{SKIMAGE}/{n}' for n in ('coffee.png', 'chelsea.png', 'camera.png', 'grass.png', 'gravel.png', 'brick.png',
                                          'hubble_deep_field.jpg')] + [
    f'{NATURE}/Storm.jpg', f'{WALLPAPERS}/DarkestHour/contents/images/1920x1080.jpg', f'{WALLPAPERS}/Grey/contents/images/1920x1080.jpg',
    '/usr/share/backgrounds/mate/abstract/Elephants.jpg', '/usr/share/backgrounds/mate/desktop/GreenTraditional.jpg',
    f'{WALLPAPERS}/PastelHills/contents/images/1920x1080.jpg', f'{WALLPAPERS}/SafeLanding/contents/images/1622x2880.jpg',
    f'{WALLPAPERS}/Volna/contents/images/5120x2880.jpg', f'{WALLPAPERS}/Shell/contents/images/5120x2880.jpg']


def grey(path, long_side=640):
    image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise SystemExit(f'cannot read {path}: install mate-backgrounds, plasma-workspace-wallpapers and python3-skimage')
    h, w = image.shape
    scale = long_side / max(h, w)
    if scale < 1:
        image = cv2.resize(image, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_AREA)
    return image


def homography(w, h, angle, scale, perspective, shift=(0, 0)):
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    to_centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]])
    transform = np.array([[scale * c, -scale * s, 0], [scale * s, scale * c, 0], [perspective[0], perspective[1], 1]])
    back = np.array([[1, 0, w / 2 + shift[0]], [0, 1, h / 2 + shift[1]], [0, 0, 1]])
    H = back @ transform @ to_centre
    return H / H[2, 2]


def views(image, rng):
    h, w = image.shape
    out = []
    # 1: rotation and mild zoom out.
    out.append((homography(w, h, rng.uniform(15, 30) * rng.choice([-1, 1]), rng.uniform(0.75, 0.9), (0, 0)), None))
    # 2: strong perspective (a viewpoint change of roughly 30-40 degrees).
    px = rng.uniform(6e-4, 9e-4) * rng.choice([-1, 1])
    out.append((homography(w, h, rng.uniform(-8, 8), 0.9, (px, rng.uniform(-3e-4, 3e-4))), None))
    # 3: zoom out by half with rotation, contrast/brightness change and JPEG quality 60.
    out.append((homography(w, h, rng.uniform(-40, 40), rng.uniform(0.5, 0.6), (0, 0)), (rng.uniform(0.6, 0.8), rng.uniform(20, 40))))
    # 4: small and oblique: zoom out to a third, perspective and rotation, then defocus blur and sensor noise.
    px = rng.uniform(5e-4, 8e-4) * rng.choice([-1, 1])
    out.append((homography(w, h, rng.uniform(-30, 30), rng.uniform(0.3, 0.4), (px, rng.uniform(-4e-4, 4e-4))), 'blur+noise'))
    result = []
    for H, photometric in out:
        warped = cv2.warpPerspective(image, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if photometric == 'blur+noise':
            warped = cv2.GaussianBlur(warped, (0, 0), 1.2)
            warped = np.clip(warped.astype(np.float32) + rng.normal(0, 6, warped.shape), 0, 255).astype(np.uint8)
        elif photometric is not None:
            gain, bias = photometric
            warped = np.clip(warped.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
            ok, jpeg = cv2.imencode('.jpg', warped, [cv2.IMWRITE_JPEG_QUALITY, 60])
            warped = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
        result.append((H, warped))
    return result


def describe(out, name, image):
    cv2.imwrite(os.path.join(out, 'images', name + '.pgm'), image)
    keypoints, descriptors = cv2.SIFT_create().detectAndCompute(image, None)
    rows = np.array([[k.pt[0], k.pt[1], k.size, k.angle, k.response, k.octave] for k in keypoints], dtype=np.float64).reshape(-1, 6)
    np.save(os.path.join(out, 'opencv', name + '.keypoints.npy'), rows.astype(np.float32))
    np.save(os.path.join(out, 'opencv', name + '.descriptors.npy'), (descriptors if descriptors is not None else np.zeros((0, 128))).astype(np.float32))


def prepare(out):
    cv2.setNumThreads(1)
    os.makedirs(os.path.join(out, 'images'), exist_ok=True)
    os.makedirs(os.path.join(out, 'opencv'), exist_ok=True)
    rng = np.random.default_rng(2024)
    manifest = {'opencv': cv2.__version__, 'database': [], 'distractors': [], 'queries': []}
    for i, path in enumerate(DATABASE):
        name = f'db{i:02d}'
        image = grey(path)
        describe(out, name, image)
        manifest['database'].append({'name': name, 'source': path, 'width': image.shape[1], 'height': image.shape[0]})
        for v, (H, warped) in enumerate(views(image, rng)):
            qname = f'q{i:02d}_{v}'
            describe(out, qname, warped)
            manifest['queries'].append({'name': qname, 'database': name, 'view': v, 'homography': H.reshape(-1).tolist(),
                                        'width': warped.shape[1], 'height': warped.shape[0]})
    for i, path in enumerate(DISTRACTORS):
        name = f'dx{i:02d}'
        image = grey(path)
        describe(out, name, image)
        manifest['distractors'].append({'name': name, 'source': path, 'width': image.shape[1], 'height': image.shape[0]})
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(manifest['database'])} database photos, {len(manifest['queries'])} queries, {len(manifest['distractors'])} distractors in {out}")


def serve(out):
    cv2.setNumThreads(1)
    sift = cv2.SIFT_create()
    cache = {}
    for line in sys.stdin:
        names = line.split()
        if not names:
            continue
        result = []
        for name in names:
            if name not in cache:
                cache[name] = cv2.imread(os.path.join(out, 'images', name + '.pgm'), cv2.IMREAD_GRAYSCALE)
            image = cache[name]
            wall, cpu = time.perf_counter(), time.thread_time()
            keypoints, descriptors = sift.detectAndCompute(image, None)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            result.append({'name': name, 'wall_ms': wall * 1000, 'cpu_ms': cpu * 1000, 'keypoints': len(keypoints)})
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('prepare', 'serve'):
        raise SystemExit(__doc__)
    (prepare if sys.argv[1] == 'prepare' else serve)(sys.argv[2])
