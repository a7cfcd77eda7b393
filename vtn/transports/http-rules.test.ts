import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseEncoding, isOadrContentType, sniffVenId } from './http-rules.ts';

test('§9.1.9.5 VTN: application/xml with an optional charset=utf-8 is accepted in any case and spacing; anything else is not', () => {
  for (const ok of ['application/xml', 'application/xml; charset=utf-8', 'Application/XML;charset=UTF-8', 'application/xml ; charset="utf-8"']) assert.equal(isOadrContentType(ok), true, ok);
  for (const bad of [undefined, '', 'text/xml', 'text/plain', 'application/xml; charset=iso-8859-1', 'application/xml; boundary=x', 'application/xml+soap']) {
    assert.equal(isOadrContentType(bad), false, String(bad));
  }
});

test('§9.1.9.2 VTN: gzip or deflate is chosen when Accept-Encoding lists it with q > 0', () => {
  assert.equal(chooseEncoding(undefined), undefined);
  assert.equal(chooseEncoding('identity'), undefined);
  assert.equal(chooseEncoding('gzip'), 'gzip');
  assert.equal(chooseEncoding('deflate, gzip;q=0.5'), 'gzip');
  assert.equal(chooseEncoding('gzip;q=0, deflate'), 'deflate');
  assert.equal(chooseEncoding('br'), undefined);
});

test('VTN logs: the venID of an unreadable body is found when present', () => {
  assert.equal(sniffVenId(Buffer.from('<x><ei:venID>ven-7</ei:venID><broken')), 'ven-7');
  assert.equal(sniffVenId(Buffer.from('<venID> v1 </venID>')), 'v1');
  assert.equal(sniffVenId(Buffer.from('garbage')), undefined);
});
