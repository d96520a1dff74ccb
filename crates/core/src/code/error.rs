//! What can go wrong in code management besides a WeChat errcode (those keep their own
//! explanation through `Error::WeChat`): each case has a Chinese and an English message, a hint
//! of what to do in both, and a stable code. `Display` is the Chinese message, as for every
//! core error.

use std::fmt;

/// One problem of a rollout plan, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub zh: String,
    pub en: String,
}

impl Problem {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Problem {
        Problem {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// A code-management failure that is not WeChat's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeError {
    /// ext.json is not JSON (at this line and column).
    ExtJson {
        line: usize,
        column: usize,
    },
    /// ext.json is JSON but not an object.
    ExtJsonNotObject,
    /// A rollout's client table or input has problems; `problems` lists the first few.
    Plan {
        count: usize,
        problems: Vec<Problem>,
    },
    /// The template is not in the platform's library.
    TemplateNotFound {
        template_id: i64,
    },
    /// The version string is empty or longer than WeChat takes.
    Version {
        version: String,
    },
    /// The account is not an authorized mini program here.
    NotMiniProgram {
        appid: String,
    },
    /// No authorized mini program to ask the platform's audit quota with.
    NoMiniProgram,
    /// Another process drives this rollout (its lock is taken).
    RolloutBusy {
        id: i64,
    },
    /// The rollout is over (completed or cancelled).
    RolloutFinished {
        id: i64,
    },
    RolloutNotFound {
        id: i64,
    },
    /// The lock file of a rollout could not be used (the I/O error's text).
    Lock {
        detail: String,
    },
    /// Stored code-management data this build cannot read.
    Corrupt {
        what: &'static str,
        value: String,
    },
}

impl CodeError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::ExtJson { .. } | CodeError::ExtJsonNotObject => "code_ext_json",
            CodeError::Plan { .. } => "code_plan",
            CodeError::TemplateNotFound { .. } => "code_template_not_found",
            CodeError::Version { .. } => "code_version",
            CodeError::NotMiniProgram { .. } => "code_not_mini_program",
            CodeError::NoMiniProgram => "code_no_mini_program",
            CodeError::RolloutBusy { .. } => "code_rollout_busy",
            CodeError::RolloutFinished { .. } => "code_rollout_finished",
            CodeError::RolloutNotFound { .. } => "code_rollout_not_found",
            CodeError::Lock { .. } => "code_lock",
            CodeError::Corrupt { .. } => "code_corrupt",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            CodeError::ExtJson { line, column } => {
                format!("ext.json 不是合法的 JSON：第 {line} 行第 {column} 列有错")
            }
            CodeError::ExtJsonNotObject => "ext.json 的顶层不是 JSON 对象".into(),
            CodeError::Plan { count, problems } => format!(
                "客户表有 {count} 处问题：{}",
                problems
                    .iter()
                    .map(|p| p.zh.as_str())
                    .collect::<Vec<_>>()
                    .join("；")
            ),
            CodeError::TemplateNotFound { template_id } => {
                format!("模板库中没有模板 {template_id}")
            }
            CodeError::Version { version } => {
                format!("版本号「{version}」无效：不能为空，最多 64 个字符")
            }
            CodeError::NotMiniProgram { appid } => {
                format!("{appid} 不是本平台已授权的小程序")
            }
            CodeError::NoMiniProgram => "还没有已授权的小程序，无法查询审核额度".into(),
            CodeError::RolloutBusy { id } => format!("批量发版 {id} 正由另一个进程执行"),
            CodeError::RolloutFinished { id } => {
                format!("批量发版 {id} 已结束（完成或取消），不能再继续")
            }
            CodeError::RolloutNotFound { id } => format!("批量发版 {id} 不存在"),
            CodeError::Lock { detail } => format!("批量发版的锁文件无法使用：{detail}"),
            CodeError::Corrupt { what, value } => {
                format!("代码管理数据损坏：{what}「{value}」")
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            CodeError::ExtJson { line, column } => {
                format!("ext.json is not valid JSON: error at line {line}, column {column}")
            }
            CodeError::ExtJsonNotObject => "ext.json's top level is not a JSON object".into(),
            CodeError::Plan { count, problems } => format!(
                "the client table has {count} problem(s): {}",
                problems
                    .iter()
                    .map(|p| p.en.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            CodeError::TemplateNotFound { template_id } => {
                format!("template {template_id} is not in the template library")
            }
            CodeError::Version { version } => {
                format!("invalid version \"{version}\": not empty, at most 64 characters")
            }
            CodeError::NotMiniProgram { appid } => {
                format!("{appid} is not a mini program authorized to this platform")
            }
            CodeError::NoMiniProgram => {
                "no authorized mini program to query the audit quota with".into()
            }
            CodeError::RolloutBusy { id } => format!("rollout {id} is run by another process"),
            CodeError::RolloutFinished { id } => {
                format!("rollout {id} is over (completed or cancelled)")
            }
            CodeError::RolloutNotFound { id } => format!("no rollout {id}"),
            CodeError::Lock { detail } => format!("the rollout lock file is unusable: {detail}"),
            CodeError::Corrupt { what, value } => {
                format!("stored code-management data is damaged: {what} \"{value}\"")
            }
        }
    }

    pub fn hint_zh(&self) -> &'static str {
        match self {
            CodeError::ExtJson { .. } | CodeError::ExtJsonNotObject => {
                "ext.json 须是一个 JSON 对象，例如 {\"extAppid\":\"wx…\",\"ext\":{\"shop\":\"一号店\"}}；检查引号与逗号。"
            }
            CodeError::Plan { .. } => {
                "客户表须有 appid 列（表头为 appid），每行一个已授权的小程序，不重复；其他列成为 ext.json 的 ext 字段（以 / 开头的列名是从顶层起的路径）。"
            }
            CodeError::TemplateNotFound { .. } => {
                "用 wxdesk-cli code templates 查看模板库，或先把草稿加入模板库。"
            }
            CodeError::Version { .. } => "给出 1 到 64 个字符的版本号，例如 1.2.0。",
            CodeError::NotMiniProgram { .. } => {
                "先授权该小程序（需勾选「小程序开发与数据分析」权限集），或检查 appid。"
            }
            CodeError::NoMiniProgram => "先授权至少一个小程序。",
            CodeError::RolloutBusy { .. } => {
                "等那个进程结束，或在那里暂停它；桌面应用运行该发版时请在应用里操作。"
            }
            CodeError::RolloutFinished { .. } => "新建一次批量发版。",
            CodeError::RolloutNotFound { .. } => "用 wxdesk-cli code rollouts 查看已有的批量发版。",
            CodeError::Lock { .. } => "检查数据目录下 locks 目录的权限与磁盘空间。",
            CodeError::Corrupt { .. } => {
                "数据库可能被其他程序改动过；请反馈问题并附上数据目录的备份。"
            }
        }
    }

    pub fn hint_en(&self) -> &'static str {
        match self {
            CodeError::ExtJson { .. } | CodeError::ExtJsonNotObject => {
                "ext.json must be one JSON object, e.g. {\"extAppid\":\"wx…\",\"ext\":{\"shop\":\"No. 1\"}}; check quotes and commas."
            }
            CodeError::Plan { .. } => {
                "The table needs an appid column (header appid), one authorized mini program per row, no repeats; other columns become keys of ext.json's ext (a column name starting with / is a path from the top)."
            }
            CodeError::TemplateNotFound { .. } => {
                "See the library with wxdesk-cli code templates, or add the draft to the library first."
            }
            CodeError::Version { .. } => "Give a version of 1 to 64 characters, e.g. 1.2.0.",
            CodeError::NotMiniProgram { .. } => {
                "Authorize the mini program first (with the code-management permission set), or check the appid."
            }
            CodeError::NoMiniProgram => "Authorize at least one mini program first.",
            CodeError::RolloutBusy { .. } => {
                "Wait for that process, or pause the rollout there (in the app if the app runs it)."
            }
            CodeError::RolloutFinished { .. } => "Start a new rollout.",
            CodeError::RolloutNotFound { .. } => "List rollouts with wxdesk-cli code rollouts.",
            CodeError::Lock { .. } => {
                "Check the permissions and free space of the data dir's locks folder."
            }
            CodeError::Corrupt { .. } => {
                "The database may have been changed by another program: report it with a backup of the data dir."
            }
        }
    }
}

/// The Chinese message, as every core error's `Display`.
impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_zh())
    }
}

impl std::error::Error for CodeError {}

impl From<CodeError> for crate::Error {
    fn from(e: CodeError) -> Self {
        crate::Error::Code(e)
    }
}
