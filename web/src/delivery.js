// A satellite delivery dropped or chosen as several files: the rasters, and the sidecar
// files that go with them (.IMD, .RPB, _rpc.txt, _MTL.txt, XML, world files, .prj), sent
// with each raster as "sidecar" parts so GDAL reads them with it on the server.

// The endings of a sidecar's name the server accepts (imagery/sidecar.go).
export const SIDECAR_ENDINGS = ['.imd', '.rpb', '_rpc.txt', '_mtl.txt', '.xml', '.wld', '.tfw', '.tifw', '.tiffw',
  '.jgw', '.jpgw', '.jpegw', '.j2w', '.jp2w', '.pgw', '.pngw', '.prj'];

export function isSidecar(name) {
  const n = name.toLowerCase();
  return SIDECAR_ENDINGS.some((e) => n.endsWith(e) && n.length > e.length);
}

function stem(name) {
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name).toLowerCase();
}

// groupDelivery splits files into images, each with its sidecars: a sidecar named after
// one or more of the images (scene.IMD for scene.TIF, scene.TIF.aux.xml) goes with those;
// one named after none (a Landsat x_MTL.txt beside x_B4.TIF, a DIMAP DIM_x.XML beside
// IMG_x_R1C1.TIF) goes with every image. With a VRT among the files, the other rasters
// are sidecars too: the VRT's sources. Sidecars with no image at all are left over.
export function groupDelivery(files) {
  // A VRT takes the rasters chosen with it as its sources.
  const vrt = files.some((f) => f.name.toLowerCase().endsWith('.vrt'));
  const source = (f) => vrt && !f.name.toLowerCase().endsWith('.vrt');
  const images = files.filter((f) => !isSidecar(f.name) && !source(f));
  const sidecars = files.filter((f) => isSidecar(f.name) || source(f));
  const groups = images.map((file) => ({file, sidecars: []}));
  for (const s of sidecars) {
    const n = s.name.toLowerCase();
    const named = groups.filter((g) => n.startsWith(stem(g.file.name) + '.') || n.startsWith(stem(g.file.name) + '_') ||
      n.startsWith(g.file.name.toLowerCase() + '.'));
    for (const g of named.length ? named : groups) g.sidecars.push(s);
  }
  return {groups, leftover: images.length ? [] : sidecars};
}
