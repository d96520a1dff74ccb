import { describe, expect, it } from "vitest";
import { splitOpenids } from "../pages/compose/CustomTab";
import { remainingParts } from "./interactions";

describe("remainingParts", () => {
  it("counts whole hours from an hour up and minutes (rounded up) below", () => {
    expect(remainingParts(47 * 3600 + 3599)).toEqual({ unit: "hours", count: 47 });
    expect(remainingParts(3600)).toEqual({ unit: "hours", count: 1 });
    expect(remainingParts(3599)).toEqual({ unit: "minutes", count: 60 });
    expect(remainingParts(61)).toEqual({ unit: "minutes", count: 2 });
    expect(remainingParts(1)).toEqual({ unit: "minutes", count: 1 });
  });
});

describe("splitOpenids", () => {
  it("splits pasted openids on spaces, commas and new lines and drops repeats", () => {
    expect(splitOpenids(["oA", "oB, oC\noD；oA", "  "])).toEqual(["oA", "oB", "oC", "oD"]);
  });
});
