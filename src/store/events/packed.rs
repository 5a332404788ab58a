//! Reading many events at once. sqlx's SQLite driver hands every row from its worker thread to
//! the caller through a channel, one at a time; over a long history that hand-off costs more
//! than the reading itself. These reads have SQLite pack a page of rows into one text value,
//! every field length-prefixed (so any text survives), and a page crosses the channel once.
//! Only the write transaction reads this way now (`Tx::load`, through its sqlx connection);
//! every other read goes through a direct connection (`read.rs`), which is faster still.

use sqlx::SqliteConnection;

use super::StoredEvent;
use crate::store::StoreError;

/// Events per packed page: a few megabytes of text.
const PAGE: i64 = 10_000;

/// The packed fields of one event, in the order [`unpack`] reads them.
const PACKED_ROW: &str = "id || ',' || deployment_id || ',' || seq || ',' ||
        length(CAST(at AS BLOB)) || ':' || at ||
        length(CAST(actor AS BLOB)) || ':' || actor ||
        coalesce(length(CAST(actor_name AS BLOB)) || ':' || actor_name, '-') ||
        length(CAST(platform AS BLOB)) || ':' || platform ||
        length(CAST(channel AS BLOB)) || ':' || channel ||
        length(CAST(kind AS BLOB)) || ':' || kind ||
        length(CAST(payload AS BLOB)) || ':' || payload ||
        length(CAST(prev_hash AS BLOB)) || ':' || prev_hash ||
        length(CAST(hash AS BLOB)) || ':' || hash";

/// One page of the whole log after id `?1`, packed in id order; the page's last id.
fn packed_log_page() -> String {
    format!(
        "SELECT count(*), max(id), group_concat({PACKED_ROW}, '' ORDER BY id)
         FROM (SELECT * FROM events WHERE id > ?1 ORDER BY id LIMIT ?2)"
    )
}

/// One page of deployment `?3`'s events after seq `?1`, packed in order; the page's last seq.
/// Through the `(deployment_id, seq)` index: a deployment's page reads its own rows only.
fn packed_deployment_page() -> String {
    format!(
        "SELECT count(*), max(seq), group_concat({PACKED_ROW}, '' ORDER BY seq)
         FROM (SELECT * FROM events WHERE deployment_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2)"
    )
}

/// Reads the events (of one deployment, or all), a page at a time, handing each page to
/// `each` in order. Stops early when `each` says so.
async fn pages(
    conn: &mut SqliteConnection,
    deployment: Option<i64>,
    mut each: impl FnMut(Vec<StoredEvent>) -> bool,
) -> Result<(), StoreError> {
    let sql = match deployment {
        Some(_) => packed_deployment_page(),
        None => packed_log_page(),
    };
    let mut after = 0i64;
    loop {
        let mut query = sqlx::query_as(&sql).bind(after).bind(PAGE);
        if let Some(id) = deployment {
            query = query.bind(id);
        }
        let (count, last, packed): (i64, Option<i64>, Option<String>) = query.fetch_one(&mut *conn).await?;
        let (Some(last), Some(packed)) = (last, packed) else { return Ok(()) };
        let rows = unpack(&packed, count as usize).map_err(|why| StoreError::Corrupt { id: after + 1, why })?;
        if !each(rows) || count < PAGE {
            return Ok(());
        }
        after = last;
    }
}

/// Every event of `deployment` (or all), in order.
pub(in crate::store) async fn all(
    conn: &mut SqliteConnection,
    deployment: Option<i64>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut rows = Vec::new();
    pages(conn, deployment, |page| {
        rows.extend(page);
        true
    })
    .await?;
    Ok(rows)
}

fn unpack(packed: &str, count: usize) -> Result<Vec<StoredEvent>, String> {
    let mut r = Reader { s: packed, at: 0 };
    let mut rows = Vec::with_capacity(count);
    while r.at < packed.len() {
        rows.push(StoredEvent {
            id: r.int()?,
            deployment_id: r.int()?,
            seq: r.int()?,
            at: r.text()?,
            actor: r.text()?,
            actor_name: r.optional()?,
            platform: r.text()?,
            channel: r.text()?,
            kind: r.text()?,
            payload: r.text()?,
            prev_hash: r.text()?,
            hash: r.text()?,
        });
    }
    Ok(rows)
}

struct Reader<'a> {
    s: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn until(&mut self, end: u8) -> Result<&str, String> {
        let rest = &self.s.as_bytes()[self.at..];
        let n = rest.iter().position(|b| *b == end).ok_or("a packed page ends early")?;
        let field = &self.s[self.at..self.at + n];
        self.at += n + 1;
        Ok(field)
    }

    fn int(&mut self) -> Result<i64, String> {
        let field = self.until(b',')?;
        field.parse().map_err(|_| format!("`{field}` is not a number"))
    }

    fn text(&mut self) -> Result<String, String> {
        let len: usize = self.until(b':')?.parse().map_err(|_| "a packed length is not a number".to_string())?;
        let field = self.s.get(self.at..self.at + len).ok_or("a packed page ends early")?;
        self.at += len;
        Ok(field.to_string())
    }

    fn optional(&mut self) -> Result<Option<String>, String> {
        if self.s.as_bytes().get(self.at) == Some(&b'-') {
            self.at += 1;
            return Ok(None);
        }
        self.text().map(Some)
    }
}
