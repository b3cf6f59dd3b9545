// wfsim's faker keeps the RegExps of helpers.mustache (fake-data.ts): its names must be those of an
// untouched faker driven by the same random stream, in every locale whose names use mustache templates.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { FakeData } from "../../src/config/shape/fake-data.ts";
import { Random } from "../../src/engine/random.ts";

const require = createRequire(import.meta.url);

type Faker = { readonly rawDefinitions: unknown; readonly person: { fullName(): string }; setDefaultRefDate(ms: number): void };

/** faker's own instance for `locale`, drawing from `random`. */
function untouched(locale: string, random: Random): Faker {
  const ready = (require(`@faker-js/faker/locale/${locale}`) as { faker: Faker }).faker;
  const Faker = ready.constructor as new (options: unknown) => Faker;
  const faker = new Faker({ locale: ready.rawDefinitions, randomizer: { next: () => random.float(), seed: () => {} } });
  faker.setDefaultRefDate(0);
  return faker;
}

describe("fake data", () => {
  it("gives the full names an untouched faker gives from the same stream", () => {
    for (const locale of ["en", "de", "fr", "ja", "en_US", "ru"]) {
      const data = FakeData.forLocale(locale, 0)!;
      data.random = new Random(7, 11, 13, 17);
      const ours = data.method("person.fullName")!;
      const theirs = untouched(locale, new Random(7, 11, 13, 17));
      const names = new Set<string>();
      for (let i = 0; i < 3000; i++) {
        const name = ours() as string;
        assert.equal(name, theirs.person.fullName(), `${locale}, name ${i}`);
        names.add(name);
      }
      assert.ok(names.size > 1000, `${locale}: ${names.size} distinct names`);
    }
  });
});
