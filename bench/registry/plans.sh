#!/usr/bin/env bash
# bench/registry/plans.sh: the query plans (and, on SQLite, the time) of the
# talent list queries that the console and the API run, on a loaded
# database: the count (capped at 10,001) and the first page of 50 for each
# of the usual filters. The SQL is what registry_talent_list builds
# (src/registry/talent.c), with the values of a real row of the database.
#   bench/registry/plans.sh DB.sqlite | postgres://...   (e.g. after KEEP=1 bench/registry/run.sh)
# A plan line with "SCAN t" (SQLite) or "Seq Scan on talents" (PostgreSQL)
# that is not bounded by the LIMIT is what to look for.
set -euo pipefail
DB=${1:?usage: bench/registry/plans.sh DB.sqlite | postgres://...}
if [[ $DB == postgres://* || $DB == postgresql://* ]]; then pg=1; else pg=0; fi

q() { # SQL -> first value
  if ((pg)); then psql -X -At -d "$DB" -c "$1"; else sqlite3 "$DB" "$1"; fi
}

# Values taken from the data: the employer with the most staff, the name
# and blind indexes of one talent.
emp=$(q "SELECT employer_id FROM talents WHERE employer_id IS NOT NULL GROUP BY employer_id ORDER BY count(*) DESC LIMIT 1")
row=$(q "SELECT id_index || '|' || coalesce(phone_index, '') || '|' || coalesce(bank_index, '') FROM talents WHERE phone_index IS NOT NULL AND bank_index IS NOT NULL LIMIT 1")
IFS='|' read -r id_index phone_index bank_index <<<"$row"
top='\xF4\x8F\xBF\xBF'
hi=$(printf "$top")

cols="t.id, t.name, t.id_masked, t.id_kind, t.birth_date, t.sex, t.phone_masked, t.education, t.graduation_date, t.category, t.level, t.employer_id, e.name, e.credit_code, t.employed_since, t.insurance_months, t.owns_housing, t.bank_masked, t.created_at, t.updated_at"
from="FROM talents t LEFT JOIN employers e ON e.id = t.employer_id WHERE 1 = 1"

plan() { # TITLE WHERE ORDER
  local title=$1 where=$2 order=$3
  echo "== $title"
  local count="SELECT count(*) FROM (SELECT 1 $from$where LIMIT 10001) c"
  local page="SELECT $cols $from$where$order LIMIT 50 OFFSET 0"
  if ((pg)); then
    for sql in "$count" "$page"; do
      psql -X -At -d "$DB" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) $sql" |
        grep -v '^ *Planning' | sed 's/^/   /'
    done
  else
    for sql in "$count" "$page"; do
      sqlite3 "$DB" "EXPLAIN QUERY PLAN $sql" | grep -v '^QUERY PLAN' | sed 's/^/   /'
      local t0 t1
      t0=$(date +%s%N)
      sqlite3 "$DB" "$sql" >/dev/null
      t1=$(date +%s%N)
      printf '   -> %.1f ms\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e6}')"
    done
  fi
}

echo "plans on $DB (employer $emp)"
plan "no filter, newest first (the default)" "" " ORDER BY t.id DESC"
plan "by employer (also an HR account's scope)" " AND t.employer_id = $emp" " ORDER BY t.id DESC"
plan "by education" " AND t.education = 'doctor'" " ORDER BY t.id DESC"
plan "by level" " AND t.level = 'A'" " ORDER BY t.id DESC"
plan "by education and level" " AND t.education = 'master' AND t.level = 'B'" " ORDER BY t.id DESC"
plan "by employer and education" " AND t.employer_id = $emp AND t.education = 'master'" " ORDER BY t.id DESC"
plan "name prefix, common (王), as counted" " AND t.name >= '王' AND t.name < '王$hi'" " ORDER BY t.id DESC"
# A prefix whose count reaches the cap is paged with the name index kept
# out of it (registry_talent_list, "broad"): newest first by walking ids.
plan "name prefix, common (王), as paged" " AND (t.name || '') >= '王' AND (t.name || '') < '王$hi'" " ORDER BY t.id DESC"
plan "name prefix, rare (诸葛)" " AND t.name >= '诸葛' AND t.name < '诸葛$hi'" " ORDER BY t.id DESC"
plan "name prefix sorted by name" " AND t.name >= '李' AND t.name < '李$hi'" " ORDER BY t.name, t.id"
plan "sorted by name" "" " ORDER BY t.name, t.id"
plan "exact ID number (blind index)" " AND t.id_index = '$id_index'" " ORDER BY t.id DESC"
plan "exact mobile (blind index)" " AND t.phone_index = '$phone_index'" " ORDER BY t.id DESC"
plan "exact card (blind index)" " AND t.bank_index = '$bank_index'" " ORDER BY t.id DESC"
# The housing lists' defaults (newest first), as registry_unit_list and
# registry_lease_list run them: the count without the joins that only bring
# columns to show. On a database from the demo's store path they have rows.
hplan() { # TITLE COUNT_SQL PAGE_SQL
  echo "== $1"
  for sql in "$2" "$3"; do
    if ((pg)); then
      psql -X -At -d "$DB" -c "EXPLAIN (COSTS OFF) $sql" | sed 's/^/   /'
    else
      sqlite3 "$DB" "EXPLAIN QUERY PLAN $sql" | grep -v '^QUERY PLAN' | sed 's/^/   /'
    fi
  done
}
hplan "units, newest first (the console's default)" \
  "SELECT count(*) FROM (SELECT 1 FROM housing_units u WHERE 1 = 1 LIMIT 10001) c" \
  "SELECT u.id, o.code FROM housing_units u JOIN operators o ON o.id = u.operator_id WHERE 1 = 1 ORDER BY u.id DESC LIMIT 20"
hplan "leases, newest first (the console's default)" \
  "SELECT count(*) FROM (SELECT 1 FROM leases l LEFT JOIN housing_units u ON u.id = l.unit_id WHERE 1 = 1 LIMIT 10001) c" \
  "SELECT l.id, t.name, o.code FROM leases l JOIN talents t ON t.id = l.talent_id LEFT JOIN housing_units u ON u.id = l.unit_id LEFT JOIN operators o ON o.id = u.operator_id WHERE 1 = 1 ORDER BY l.id DESC LIMIT 20"
hplan "leases of an employer's staff (an HR account's scope)" \
  "SELECT count(*) FROM (SELECT 1 FROM leases l LEFT JOIN housing_units u ON u.id = l.unit_id WHERE 1 = 1 AND l.talent_id IN (SELECT st.id FROM talents st WHERE st.employer_id = $emp) LIMIT 10001) c" \
  "SELECT l.id, t.name FROM leases l JOIN talents t ON t.id = l.talent_id WHERE 1 = 1 AND l.talent_id IN (SELECT st.id FROM talents st WHERE st.employer_id = $emp) ORDER BY l.id DESC LIMIT 20"
echo "== the employer list, by name (the console's default)"
if ((pg)); then
  psql -X -At -d "$DB" -c "EXPLAIN (COSTS OFF) SELECT e.id, e.name FROM employers e WHERE 1 = 1 ORDER BY e.name, e.id LIMIT 20" | sed 's/^/   /'
else
  sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT e.id, e.name FROM employers e WHERE 1 = 1 ORDER BY e.name, e.id LIMIT 20" | grep -v '^QUERY PLAN' | sed 's/^/   /'
fi
echo "== an employer's staff count (registry_employer_get)"
if ((pg)); then
  psql -X -At -d "$DB" -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM talents WHERE employer_id = $emp" | sed 's/^/   /'
else
  sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT count(*) FROM talents WHERE employer_id = $emp" | grep -v '^QUERY PLAN' | sed 's/^/   /'
fi
