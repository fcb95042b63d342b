// The Realtime stand-in's janitor keeps the daily partitions Realtime keeps: yesterday to three
// days ahead, and drops partitions older than 72 hours, never a default partition.
import { describe, expect, it } from "vitest";
import { partitionsAround, partitionsToDrop } from "../../tools/realtime-standin/maintenance.ts";

describe("Realtime stand-in janitor", () => {
  it("names yesterday to three days ahead, each one day wide", () => {
    expect(partitionsAround(new Date("2027-02-28T23:30:00Z"))).toEqual([
      { name: "messages_2027_02_27", from: "2027-02-27", to: "2027-02-28" },
      { name: "messages_2027_02_28", from: "2027-02-28", to: "2027-03-01" },
      { name: "messages_2027_03_01", from: "2027-03-01", to: "2027-03-02" },
      { name: "messages_2027_03_02", from: "2027-03-02", to: "2027-03-03" },
      { name: "messages_2027_03_03", from: "2027-03-03", to: "2027-03-04" },
    ]);
  });

  it("drops only dated partitions from before the 72-hour limit", () => {
    const names = ["messages_default", "messages_2027_02_24", "messages_2027_02_25", "messages_2027_02_26", "messages_2027_03_01", "messages_backup"];
    expect(partitionsToDrop(names, new Date("2027-02-28T12:00:00Z"))).toEqual(["messages_2027_02_24"]);
  });
});
