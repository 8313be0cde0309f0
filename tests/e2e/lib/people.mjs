// tests/e2e/lib/people.mjs - two small customer files for the review
// tests: a CRM export of 40 distinct people and a web shop's export that
// names some of them again under its own ids, with a typo in the first
// name and the same birth date and city (the pairs the matcher is unsure
// of), plus a few exact repeats (the pairs it merges on its own).
// Deterministic: the same bytes every time.
const FIRST = ["Anna", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
  "Katja", "Lars", "Maren", "Nils", "Olga", "Pavel", "Quentin", "Rosa", "Stefan", "Tamara",
  "Ulrich", "Vera", "Walter", "Xenia", "Yusuf", "Zora", "Arne", "Bettina", "Conrad", "Doris",
  "Emil", "Frieda", "Gustav", "Hanna", "Igor", "Jana", "Kurt", "Lena", "Moritz", "Nora"];
const LAST = ["Albers", "Brandt", "Classen", "Dietrich", "Engel", "Fischer", "Gruber", "Hartmann", "Imhof", "Jung",
  "Keller", "Lorenz", "Mayer", "Neumann", "Ott", "Pohl", "Quast", "Richter", "Schulz", "Thiel",
  "Urban", "Vogel", "Wagner", "Xander", "Yilmaz", "Ziegler", "Arndt", "Bauer", "Conrad", "Dorn",
  "Eckert", "Frank", "Graf", "Horn", "Iske", "Jansen", "Kraus", "Lang", "Marx", "Nagel"];
const CITY = ["Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig", "Dresden", "Bremen", "Hanover"];

function person(i) {
  const d = new Date(Date.UTC(1950 + ((i * 7) % 45), (i * 5) % 12, 1 + ((i * 11) % 28)));
  return {
    id: `C${String(1001 + i)}`,
    first: FIRST[i],
    last: LAST[i],
    email: `${FIRST[i]}.${LAST[i]}@example.com`.toLowerCase(),
    birth: d.toISOString().slice(0, 10),
    city: CITY[i % CITY.length],
  };
}

const swap = (s) => s[0] + s[2] + s[1] + s.slice(3);            // "Carla" -> "Crala"
const endTypo = (s) => s.slice(0, -1) + (s.endsWith("e") ? "a" : "e");
const lastTypo = (s) => s.slice(0, -2) + s[s.length - 1] + s[s.length - 2];
const nextYear = (d) => `${Number(d.slice(0, 4)) + 1}${d.slice(4)}`;
const otherCity = (c) => (c === "Bremen" ? "Berlin" : "Bremen");

export function crmCsv() {
  const rows = ["customer_id,first_name,last_name,email,birth_date,city,country"];
  for (let i = 0; i < 40; i++) {
    const p = person(i);
    rows.push([p.id, p.first, p.last, p.email, p.birth, p.city, "DE"].join(","));
  }
  return rows.join("\n") + "\n";
}

// The shop's customers, without e-mail and under its own ids (which no
// key rule can align with the CRM's): [kind, CRM person] where kind is
//   clear  typo in the first name, same last name, birth date and city
//   A      last name with a typo, another birth date, same city
//   B      first name with a typo, birth year one off, same city
//   C      same names and city, another birth date
//   D      first name with a typo, another last name, same birth date and city
//   E      same names and birth date, another city
//   F      first name with a typo, another birth date and city
export const SHOP = [
  ...[1, 3, 6, 8, 12, 16, 19, 23].map((i) => ["clear", i]),
  ["A", 2], ["B", 14], ["C", 17], ["D", 21], ["E", 27], ["F", 33], ["D", 29],
];

export function shopCsv() {
  const rows = ["customer_id,first_name,last_name,email,birth_date,city,country"];
  SHOP.forEach(([kind, i], k) => {
    const p = person(i);
    const r = {
      clear: [swap(p.first), p.last, p.birth, p.city],
      A: [p.first, lastTypo(p.last), "1990-06-15", p.city],
      B: [endTypo(p.first), p.last, nextYear(p.birth), p.city],
      C: [p.first, p.last, "1991-09-09", p.city],
      D: [swap(p.first), "Meyer", p.birth, p.city],
      E: [p.first, p.last, p.birth, otherCity(p.city)],
      F: [swap(p.first), p.last, "1991-09-09", otherCity(p.city)],
    }[kind];
    rows.push([`W-${501 + k}`, r[0], r[1], "", r[2], r[3], "DE"].join(","));
  });
  // weak evidence, no birth date: typos in both names, or the same name
  // in another city (the pairs a person should look at); as in
  // tests/integration/tests_review.py
  [["G", 4], ["J", 25], ["G", 10], ["J", 37]].forEach(([kind, i], k) => {
    const p = person(i);
    const r = kind === "G" ? [endTypo(p.first), lastTypo(p.last), ""] : [p.first, p.last, otherCity(p.city)];
    rows.push([`W-${601 + k}`, r[0], r[1], "", "", r[2], "DE"].join(","));
  });
  return rows.join("\n") + "\n";
}
