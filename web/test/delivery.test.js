// Grouping the files of a satellite delivery (src/delivery.js): each raster with the
// sidecars the server is to read with it.

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {groupDelivery, isSidecar} from '../src/delivery.js';

const names = (list) => list.map((f) => f.name);
const files = (...n) => n.map((name) => ({name}));

test('a DigitalGlobe folder: the raster with its IMD, RPB and XML', () => {
  const s = '19DEC10103355-P2AS-058800000010_01_P001';
  const {groups, leftover} = groupDelivery(files(`${s}.TIF`, `${s}.IMD`, `${s}.RPB`, `${s}.XML`));
  assert.deepEqual(groups.map((g) => [g.file.name, names(g.sidecars)]), [[`${s}.TIF`, [`${s}.IMD`, `${s}.RPB`, `${s}.XML`]]]);
  assert.deepEqual(leftover, []);
});

test('two scenes with their own sidecars; a Landsat MTL named after no band goes with every band', () => {
  const {groups} = groupDelivery(files('a.tif', 'b.tif', 'a.tfw', 'b.RPB', 'b.tif.aux.xml', 'a_rpc.txt'));
  assert.deepEqual(groups.map((g) => [g.file.name, names(g.sidecars)]), [['a.tif', ['a.tfw', 'a_rpc.txt']], ['b.tif', ['b.RPB', 'b.tif.aux.xml']]]);
  const landsat = groupDelivery(files('LC08_X_B4.TIF', 'LC08_X_B5.TIF', 'LC08_X_MTL.txt')).groups;
  assert.deepEqual(landsat.map((g) => names(g.sidecars)), [['LC08_X_MTL.txt'], ['LC08_X_MTL.txt']]);
});

test('sidecars alone are left over; endings are matched without case', () => {
  assert.deepEqual(names(groupDelivery(files('x.IMD', 'x.prj')).leftover), ['x.IMD', 'x.prj']);
  assert.equal(isSidecar('SCENE.PGW'), true);
  assert.equal(isSidecar('scene.png'), false);
  assert.equal(isSidecar('.imd'), false);
});

test('a VRT takes the rasters chosen with it as its sources', () => {
  const {groups} = groupDelivery(files('band_r.tif', 'scene.vrt', 'band_g.tif', 'scene.prj'));
  assert.deepEqual(groups.map((g) => [g.file.name, names(g.sidecars)]), [['scene.vrt', ['band_r.tif', 'band_g.tif', 'scene.prj']]]);
});
