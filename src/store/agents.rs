//! Agents: stateless templates, one row each.

use rusqlite::{OptionalExtension, Row, ToSql};

use super::{Result, Store, from_json, new_id, to_json};
use crate::types::Agent;

/// An agent's fields without id and timestamps: what create and update write.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentParams {
    pub name: String,
    pub instructions: String,
    pub tools: Vec<String>,
    pub provider: String,
    pub model: String,
    pub max_tokens: u32,
    pub temperature: Option<f64>,
    pub max_steps: u32,
}

impl AgentParams {
    pub fn from_agent(agent: &Agent) -> AgentParams {
        AgentParams {
            name: agent.name.clone(),
            instructions: agent.instructions.clone(),
            tools: agent.tools.clone(),
            provider: agent.provider.clone(),
            model: agent.model.clone(),
            max_tokens: agent.max_tokens,
            temperature: agent.temperature,
            max_steps: agent.max_steps,
        }
    }
}

const COLUMNS: &str = "id, name, instructions, tools, provider, model, max_tokens, temperature, max_steps, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(Agent, String)> {
    let tools: String = row.get(3)?;
    Ok((
        Agent {
            id: row.get(0)?,
            name: row.get(1)?,
            instructions: row.get(2)?,
            tools: Vec::new(),
            provider: row.get(4)?,
            model: row.get(5)?,
            max_tokens: row.get(6)?,
            temperature: row.get(7)?,
            max_steps: row.get(8)?,
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
        },
        tools,
    ))
}

fn decode((mut agent, tools): (Agent, String)) -> Result<Agent> {
    agent.tools = from_json(&tools, "agent tools")?;
    Ok(agent)
}

impl Store {
    pub fn create_agent(&self, p: &AgentParams) -> Result<Agent> {
        let now = crate::time::now();
        let conn = self.conn();
        let id = new_id();
        let tools = to_json(&p.tools)?;
        conn.execute(
            &format!("INSERT INTO agents ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"),
            bind(&id, p, &tools, &now),
        )?;
        drop(conn);
        Ok(agent_from(id, p, now.clone(), now))
    }

    /// Newest first.
    pub fn list_agents(&self) -> Result<Vec<Agent>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM agents ORDER BY id DESC"))?;
        let rows = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        drop(conn);
        rows.into_iter().map(decode).collect()
    }

    pub fn get_agent(&self, id: &str) -> Result<Option<Agent>> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM agents WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    /// Replaces every field; `None` when there is no such agent.
    pub fn update_agent(&self, id: &str, p: &AgentParams) -> Result<Option<Agent>> {
        let now = crate::time::now();
        let tools = to_json(&p.tools)?;
        let conn = self.conn();
        let created_at: Option<String> = conn
            .query_row(
                "UPDATE agents SET name = ?2, instructions = ?3, tools = ?4, provider = ?5, model = ?6,
                 max_tokens = ?7, temperature = ?8, max_steps = ?9, updated_at = ?10
                 WHERE id = ?1 RETURNING created_at",
                bind(&id, p, &tools, &now),
                |r| r.get(0),
            )
            .optional()?;
        Ok(created_at.map(|created_at| agent_from(id.to_string(), p, created_at, now)))
    }

    pub fn delete_agent(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM agents WHERE id = ?1", [id])?
            > 0)
    }
}

/// ?1 id, ?2..?9 the fields in `COLUMNS` order, ?10 the time: the one parameter
/// list both INSERT and UPDATE bind.
fn bind<'a>(
    id: &'a dyn ToSql,
    p: &'a AgentParams,
    tools: &'a dyn ToSql,
    now: &'a dyn ToSql,
) -> [&'a dyn ToSql; 10] {
    [
        id,
        &p.name,
        &p.instructions,
        tools,
        &p.provider,
        &p.model,
        &p.max_tokens,
        &p.temperature,
        &p.max_steps,
        now,
    ]
}

fn agent_from(id: String, p: &AgentParams, created_at: String, updated_at: String) -> Agent {
    Agent {
        id,
        name: p.name.clone(),
        instructions: p.instructions.clone(),
        tools: p.tools.clone(),
        provider: p.provider.clone(),
        model: p.model.clone(),
        max_tokens: p.max_tokens,
        temperature: p.temperature,
        max_steps: p.max_steps,
        created_at,
        updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(name: &str) -> AgentParams {
        AgentParams {
            name: name.into(),
            instructions: "be brief".into(),
            tools: vec!["read".into(), "bash".into()],
            provider: "anthropic".into(),
            model: "claude-sonnet-4-5".into(),
            max_tokens: 100,
            temperature: Some(0.5),
            max_steps: 3,
        }
    }

    #[test]
    fn crud_round_trip() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_agent(&params("a")).unwrap();
        let b = store.create_agent(&params("b")).unwrap();
        assert_eq!(store.get_agent(&a.id).unwrap(), Some(a.clone()));
        assert_eq!(store.list_agents().unwrap(), vec![b.clone(), a.clone()]);
        let mut p = params("a2");
        p.temperature = None;
        let updated = store.update_agent(&a.id, &p).unwrap().unwrap();
        assert_eq!(
            (
                updated.name.as_str(),
                updated.temperature,
                &updated.created_at
            ),
            ("a2", None, &a.created_at)
        );
        assert_eq!(store.get_agent(&a.id).unwrap(), Some(updated));
        assert!(store.delete_agent(&a.id).unwrap());
        assert!(!store.delete_agent(&a.id).unwrap());
        assert_eq!(store.update_agent(&a.id, &p).unwrap(), None);
        assert_eq!(store.list_agents().unwrap(), vec![b]);
    }
}
