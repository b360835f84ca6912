//! MCP server tools as `Tool`s: each call goes to its server through the turn's `Servers`.

use super::{Tool, ToolError, ToolResult};
use crate::mcp::{Offered, Servers};
use serde_json::{Value, json};
use std::rc::Rc;

/// One tool of one MCP server.
pub struct McpTool {
    servers: Rc<Servers>,
    offered: Offered,
    description: String,
}

impl McpTool {
    pub fn new(servers: Rc<Servers>, offered: Offered) -> McpTool {
        let description = match offered.tool.description.trim() {
            "" => format!(
                "Tool `{}` of MCP server `{}`.",
                offered.tool.name, offered.server
            ),
            text => format!("{text} (MCP server `{}`)", offered.server),
        };
        McpTool {
            servers,
            offered,
            description,
        }
    }
}

impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.offered.model_name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        let mut schema = self.offered.tool.input_schema.clone();
        // Function calling wants an object schema with properties, even when empty.
        if schema.get("type").is_none() {
            schema["type"] = json!("object");
        }
        if schema.get("properties").is_none() {
            schema["properties"] = json!({});
        }
        schema
    }

    fn call(&self, arguments: &Value) -> ToolResult {
        self.servers
            .call(&self.offered.server, &self.offered.tool, arguments)
            .map_err(ToolError)
    }
}
