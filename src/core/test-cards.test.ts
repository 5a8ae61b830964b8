import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { luhnValid, TEST_CARD_BEHAVIOURS, TEST_CARDS, testCard } from './test-cards.ts';

describe('test cards', () => {
  it('every test card passes the Luhn check the hosted page applies', () => {
    for (const c of TEST_CARDS) assert.ok(luhnValid(c.number), c.number);
  });
  it('there is exactly one card per behaviour', () => {
    assert.deepEqual([...TEST_CARDS.map((c) => c.behaviour)].sort(), [...TEST_CARD_BEHAVIOURS].sort());
  });
  it('refuses a number with a wrong check digit, letters, or the wrong length', () => {
    for (const bad of ['4242424242424241', '4242 4242 4242 4242', '42424242424', '4242a42424242424', ''])
      assert.equal(luhnValid(bad), false, bad);
  });
  it('finds a test card by number and nothing for other numbers', () => {
    assert.equal(testCard('4242424242424242')?.behaviour, 'approved');
    assert.equal(testCard('5555555555554444'), undefined);
  });
});
